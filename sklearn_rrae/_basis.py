"""The global latent basis: the top right singular vectors of the encoded training set.

This is the paper's first recipe (v1). ``benchmarks/studies/basis_recipes.py``
compares it with the authors' later recipe (stacked per-batch bases) and with a
decoder fine-tuning on top: both recipes find the same subspace (0.2 degrees
apart) and the same held-out error, and the fine-tuning helps MNIST by 5 % but
multiplies the shifted-sine error by 7, so neither is used.

The SVD goes through the smaller Gram matrix, in float64: N x N when there are
fewer samples N than latent dimensions L (the encoded set is then small), else
L x L accumulated chunk by chunk; only its top ``k`` eigenpairs are computed.
Without truncation (``n_components=None``) the code is the latent itself: the
basis is the identity and only the singular values are computed.
"""

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.utils.extmath import svd_flip

from ._truncation import top_eigenpairs


@dataclass(frozen=True)
class LatentBasis:
    """Orthonormal rows ``components`` (n_codes x L) and the singular values they go with."""

    components: np.ndarray
    singular_values: np.ndarray


def _encoded(module, data):
    module.eval()
    with torch.no_grad():
        for chunk in data.chunks():
            yield module.encode(chunk).double()


def encoded_gram(module, data):
    """``Z.T @ Z`` (L x L, float64) of the encoded ``data``, chunk by chunk."""
    L = module.basis.shape[1]
    gram = torch.zeros(L, L, dtype=torch.float64, device=module.basis.device)
    for Z in _encoded(module, data):
        gram += Z.mT @ Z
    return gram


def fit_basis(module, data, k):
    """The rank-``k`` basis (``k=None``: the identity) of ``module``'s latents of ``data``."""
    if len(data) < module.basis.shape[1]:
        Z = torch.cat(list(_encoded(module, data)))
        return basis_from_gram(Z @ Z.mT, k, module.basis.shape[1], Z)
    return basis_from_gram(encoded_gram(module, data), k, module.basis.shape[1])


def basis_from_gram(gram, k, latent_dim, Z=None):
    """The top ``k`` eigenvectors of a latent Gram matrix, as a :class:`LatentBasis`.

    ``gram`` is ``Z.T @ Z`` (L x L), or ``Z @ Z.T`` (N x N) with the latents
    ``Z`` given, whose left singular vectors are then turned into right ones.
    Signs are deterministic: the largest-magnitude entry of each row is positive.
    """
    if k is None:
        evals = torch.linalg.eigvalsh(gram).flip(-1).clamp_min(0)
        singular_values = np.zeros(latent_dim)
        singular_values[: len(evals)] = evals[:latent_dim].sqrt().cpu().numpy()
        return LatentBasis(np.eye(latent_dim), singular_values)
    evals, vecs = top_eigenpairs(gram, k)
    if Z is not None:
        # Right singular vectors from the left ones; QR only guards against
        # vanishing singular values (a latent of rank below k).
        vecs = Z.mT @ (vecs / evals.sqrt().clamp_min(torch.finfo(Z.dtype).tiny))
        vecs = torch.linalg.qr(vecs).Q
    _, components = svd_flip(None, vecs.mT.cpu().numpy().copy(), u_based_decision=False)
    return LatentBasis(components, evals.sqrt().cpu().numpy())

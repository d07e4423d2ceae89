"""The global latent basis: the top right singular vectors of the encoded training set.

This is the paper's first recipe (v1). ``benchmarks/studies/basis_recipes.py``
compares it with the authors' later recipe (stacked per-batch bases) and with a
decoder fine-tuning on top: both recipes find the same subspace (0.2 degrees
apart) and the same held-out error, so the stacked recipe is not used. The
fine-tuning helps MNIST by 5 % but multiplies the shifted-sine error by 7: it is
the decoder's second stage (``_decoder_stage``), on by default on large data only.

The SVD goes through the smaller Gram matrix, in float64: N x N when there are
fewer samples N than latent dimensions L (the encoded set is then small), else
L x L accumulated chunk by chunk; only its top ``k`` eigenpairs are computed.
Without truncation (``n_components=None``) the code is the latent itself: the
basis is the identity and only the singular values are computed.
"""

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import torch
from sklearn.utils.extmath import svd_flip

from ._distributed import sum_gram
from ._truncation import eigh_descending

# Up to this size the Gram matrix goes straight to LAPACK for its top k pairs only
# (scipy.linalg.eigh(subset_by_index), dsyevr); above it, block subspace iteration
# first. benchmarks/studies/basis_eigensolver.py, 2-core Xeon, four runs, LAPACK vs
# iteration (ms): 128 x 128, k = 5 (default latent_dim) 1.5-1.7 vs 1.3-3.6; 100 x 100,
# k = 2 (the paper's two bumps) 0.9-1.0 vs 1.8-4.4; 1000 x 1000, k = 10, a trained
# latent with a gap after k, 68-70 vs 28-33; 1000 x 1000, k = 2 without a gap (the
# iteration gives up after one step) 62-65 vs 70-78. The threshold lies between the
# sizes measured.
_DIRECT_MAX_SIZE = 256


def lapack_top_eigenpairs(M, k):
    """The ``k`` largest eigenpairs of a symmetric matrix, by LAPACK on the host."""
    m = M.shape[0]
    evals, vecs = scipy.linalg.eigh(M.cpu().numpy(), subset_by_index=[m - k, m - 1])
    evals = torch.from_numpy(evals[::-1].copy()).clamp_min(0.0)
    return evals.to(M.device), torch.from_numpy(vecs[:, ::-1].copy()).to(M.device)


def subspace_iteration(M, k, rtol=1e-10, max_iter=30):
    """The ``k`` largest eigenpairs by block subspace iteration, or None where it would be slow.

    Rayleigh-Ritz on ``r = k + max(k, 10)`` vectors from a fixed seed, run until
    every kept residual ``||M v - theta v||`` is below ``rtol * theta_1``. Its
    error shrinks by about ``theta_r / theta_k`` per iteration; when that
    predicts more than ``max_iter`` iterations, or ``r`` is not small beside the
    size, it gives up (None). A trained RRAE latent has a large gap after its
    k-th singular value, so a few iterations usually suffice.
    """
    m = M.shape[0]
    r = k + max(k, 10)
    if 2 * r >= m:
        return None
    g = torch.Generator(device=M.device).manual_seed(0)
    Q = torch.randn(m, r, generator=g, dtype=M.dtype, device=M.device)
    for iteration in range(max_iter):
        Q = torch.linalg.qr(M @ Q).Q
        MQ = M @ Q
        theta, S = eigh_descending(Q.mT @ MQ)
        V = Q @ S[:, :k]
        residual = torch.linalg.vector_norm(MQ @ S[:, :k] - V * theta[:k], dim=0)
        if bool((residual <= rtol * theta[0]).all()):
            return theta[:k], V
        rate = float(theta[-1] / theta[k - 1]) if theta[k - 1] > 0 else 1.0
        if iteration == 0 and (rate >= 1 or math.log(rtol) / math.log(rate) > max_iter):
            return None
    return None


def top_eigenpairs(M, k):
    """The ``k`` largest eigenpairs of a symmetric positive semi-definite matrix.

    Returns
    -------
    evals : tensor of shape (k,), decreasing
    evecs : tensor of shape (m, k), orthonormal columns
    """
    found = None if M.shape[0] <= _DIRECT_MAX_SIZE else subspace_iteration(M, k)
    return lapack_top_eigenpairs(M, k) if found is None else found


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


def fit_basis(module, data, k, distributed=False):
    """The rank-``k`` basis (``k=None``: the identity) of ``module``'s latents of ``data``.

    ``distributed``: ``data`` is this process's shard, the basis is that of all shards.
    """
    if distributed:
        return basis_from_gram(sum_gram(encoded_gram(module, data)), k, module.basis.shape[1])
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

"""PCA's ``explained_variance_ratio_`` for an RRAE: what each rank adds, in data space.

Entry ``r`` is the share of the training data's total variance that the rank
``r + 1`` reconstruction explains beyond the rank ``r`` one, so that
``cumsum(ratio)[r - 1] = 1 - MSE_r / total variance`` as for PCA (rank 0
explains nothing: its error is the total variance). The rank ``r``
reconstruction decodes the first ``r`` codes with the others at zero, which is
what ``inverse_transform`` does with ``r`` columns. Unlike PCA's, an entry can be
negative: a model not trained for its prefixes (``nested=False``) may
reconstruct worse at rank ``r + 1`` than at rank ``r``.

The scaling is linear, so the ratio is the same in model units, where it is
computed: one encoding of the data and one decoding per rank, chunk by chunk.
"""

import numpy as np
import torch

from ._data import scan
from ._distributed import all_sum
from ._linear_start import smaller_gram


def rank_error_sums(module, data, distributed=False):
    """``(sse, total)``: the squared error of each rank 1..K over ``data``, and its sum of squares.

    Both in model units, float64; ``total`` is measured from the scaling's mean
    (the training mean after ``fit``).
    """
    basis = module.basis
    n_ranks = basis.shape[0]
    sse = torch.zeros(n_ranks, dtype=torch.float64, device=basis.device)
    total = torch.zeros((), dtype=torch.float64, device=basis.device)
    module.eval()
    with torch.no_grad():
        for chunk in data.chunks():
            codes = module.to_codes(chunk)
            for r in range(1, n_ranks + 1):
                error = module.decode(codes[:, :r] @ basis[:r]) - chunk
                sse[r - 1] += error.double().square().sum()
            total += chunk.double().square().sum()
    if distributed:  # this process's shard: the sums of all shards
        return all_sum(sse.cpu().numpy()), float(all_sum(float(total)))
    return sse.cpu().numpy(), float(total)


def explained_variance_ratio(sse, total):
    """From :func:`rank_error_sums`; zeros for data without variance (PCA gives NaN there)."""
    if not total > 0:
        return np.zeros_like(sse)
    return -np.diff(np.concatenate([[total], sse])) / total


def pca_rank(X, fraction):
    """The rank PCA picks for ``n_components=fraction``: its smallest rank explaining more than it.

    From the eigenvalues of the smaller Gram matrix of the centred data, in float64
    (:func:`~sklearn_rrae._linear_start.smaller_gram`), with scikit-learn's rule:
    the first rank whose cumulative ratio exceeds ``fraction``.
    """
    mean = sum(np.asarray(block, dtype=np.float64).sum(0) for block in scan(X)) / X.shape[0]
    gram, _ = smaller_gram(X, lambda block: np.asarray(block, dtype=np.float64) - mean)
    variances = np.linalg.eigvalsh(gram)[::-1].clip(0)
    if not variances.sum() > 0:
        return 1
    cumulative = np.cumsum(variances) / variances.sum()
    return int(min(np.searchsorted(cumulative, fraction, side="right") + 1, len(variances)))

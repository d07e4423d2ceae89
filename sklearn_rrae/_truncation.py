"""Rank truncation of a batch latent matrix, with a backward pass that stays finite.

The forward pass of an RRAE replaces the batch latent ``Y`` (B x L) by its best
rank-k approximation ``Y_k = A_k A_k^T Y = Y V_k V_k^T`` (Eckart-Young), where
``A_k`` and ``V_k`` hold the k leading left and right singular vectors of ``Y``.

Only that projection needs a derivative, not the singular vectors themselves.
Writing ``P = A_k A_k^T`` for the spectral projector of the Gram matrix
``N = Y Y^T`` (eigenpairs ``(lambda_i, a_i)``, ``lambda_i = s_i^2``, sorted
decreasingly) and ``G`` for the incoming gradient, first-order perturbation of
``P`` gives the vector-Jacobian product in closed form::

    grad_Y = P G + (C + C^T) Y,    C = A_K c A_D^T,
    c_ij = a_i^T (G Y^T + Y G^T) a_j / (lambda_i - lambda_j),  i kept, j discarded.

Unlike the textbook SVD backward, no term couples two kept or two discarded
modes, and there is no ``1 / s_i`` at all: the only denominators are the gaps
between kept and discarded eigenvalues, which is exactly where the projection
stops being differentiable. Those are regularised as ``d / (d^2 + eps^2)`` with
``eps`` a tiny fraction of ``lambda_1``, so the result equals the exact gradient
wherever the gap is not negligible and stays finite on repeated or vanishing
singular values. Zero gaps (a kept and a discarded value that coincide, e.g.
both zero) give 0, their limit along any generic path.

Everything is computed on the smaller side: for B > L the same formula is
applied to ``Y^T`` (left and right singular vectors swap roles). The Gram matrix
and its eigendecomposition are small (min(B, L) squared) and done in float64,
which makes them as accurate as an SVD of the float32 latent; the B x L products
stay in the latent's dtype. The eigenvectors are kept from the forward pass for
the backward pass, so nothing is recomputed.
"""

import torch

__all__ = ["rank_truncate", "rank_truncate_svd"]

# Gaps below this fraction of the largest eigenvalue are smoothed in the backward.
_GAP_EPS = 1e-9


def eigh_descending(gram):
    """Eigenpairs of a symmetric positive semi-definite matrix, largest first."""
    evals, evecs = torch.linalg.eigh(gram)
    return evals.flip(-1).clamp_min(0.0), evecs.flip(-1)


def _gram_eigh(Y):
    """Eigenpairs of ``Y Y^T``, computed in float64, largest first."""
    Y64 = Y.to(torch.float64)
    return eigh_descending(Y64 @ Y64.mT)


def _inverse_gaps(kept, discarded):
    """``1 / (kept_i - discarded_j)``, smoothed near zero gaps and 0 on exact ties."""
    gap = kept[:, None] - discarded[None, :]
    eps = _GAP_EPS * kept[0]
    safe = torch.where(gap != 0, gap, torch.ones_like(gap))
    return torch.where(gap != 0, safe / (safe * safe + eps * eps), torch.zeros_like(gap))


class _ProjectRows(torch.autograd.Function):
    """``P Y`` with ``P`` the projector on the top-k eigenvectors of ``Y Y^T``.

    ``Y`` has at most as many rows as columns (the caller transposes).
    """

    @staticmethod
    def forward(ctx, Y, k):
        evals, evecs = _gram_eigh(Y)
        A_k = evecs[:, :k].to(Y.dtype)
        ctx.k = k
        ctx.save_for_backward(Y, evals, evecs)
        return A_k @ (A_k.mT @ Y)

    @staticmethod
    def backward(ctx, G):
        Y, evals, evecs = ctx.saved_tensors
        k = ctx.k
        A_k = evecs[:, :k].to(Y.dtype)
        grad = A_k @ (A_k.mT @ G)
        if k < Y.shape[0]:
            H = G @ Y.mT
            H = (H + H.mT).to(torch.float64)
            A_K, A_D = evecs[:, :k], evecs[:, k:]
            c = (A_K.mT @ H @ A_D) * _inverse_gaps(evals[:k], evals[k:])
            C = A_K @ c @ A_D.mT
            grad = grad + (C + C.mT).to(Y.dtype) @ Y
        return grad, None


def rank_truncate(Y, k):
    """Best rank-``k`` approximation of a batch latent, differentiable and stable.

    Parameters
    ----------
    Y : torch.Tensor of shape (n_rows, latent_dim)
        Batch latent matrix (one row per sample).
    k : int
        Rank to keep. If ``k >= min(Y.shape)`` the matrix is returned unchanged.

    Returns
    -------
    Y_k : torch.Tensor of the same shape as ``Y``
        ``Y`` projected on its ``k`` leading right singular vectors.
    """
    if k >= min(Y.shape):
        return Y
    if Y.shape[0] > Y.shape[1]:
        return _ProjectRows.apply(Y.mT, k).mT
    return _ProjectRows.apply(Y, k)


def rank_truncate_svd(Y, k):
    """Reference truncation through ``torch.linalg.svd`` and its stock backward.

    This is how the method is usually written. Its gradient is exact for distinct
    non-zero singular values and inf/NaN otherwise; it serves as the test oracle
    and the speed baseline, never inside the model.
    """
    if k >= min(Y.shape):
        return Y
    U, S, Vh = torch.linalg.svd(Y, full_matrices=False)
    return (U[:, :k] * S[:k]) @ Vh[:k]

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
applied to ``Y^T`` (left and right singular vectors swap roles), so the only
cubic cost is the eigendecomposition of a min(B, L) square matrix. The
eigenvectors are kept from the forward pass for the backward pass, so nothing
is recomputed.
"""

import torch

__all__ = [
    "rank_truncate",
    "rank_truncate_svd",
    "nested_rank_truncate",
    "nested_ranks",
    "gram_eigh",
    "eigh_descending",
]

# Eigenvalue gaps below this many machine epsilons of lambda_1 are smoothed in the
# backward: the eigensolver cannot resolve them anyway.
_GAP_EPS_ULPS = 1000.0


# cuSOLVER's eigh costs about a millisecond whatever the size below a few hundred
# (measured on an H100: 1.4 ms at 20 x 20), more than the rest of a training step;
# the host's LAPACK takes microseconds there, for one synchronisation that the
# per-step loss read-out pays anyway. Above this size the device's solver is kept.
_HOST_EIGH_MAX_SIZE = 256


def gram_eigh(gram):
    """``torch.linalg.eigh``, on the host for a small matrix that lives on an accelerator.

    A finite float32 matrix on which the solver does not converge is solved again
    in float64: a PCA start one step of ``lr=1e-12`` away from its exact zeros gave
    a 128 x 128 latent Gram matrix with entries from 7.6e3 down to 1e-40 on which
    LAPACK's float32 eigh failed (flushing the subnormals did not help; float64 did).
    """
    try:
        return _eigh(gram)
    except torch.linalg.LinAlgError:
        if gram.dtype == torch.float64 or not torch.isfinite(gram).all():
            raise
        evals, vecs = _eigh(gram.double())
        return evals.to(gram.dtype), vecs.to(gram.dtype)


def _eigh(gram):
    if gram.device.type == "cpu" or gram.shape[-1] > _HOST_EIGH_MAX_SIZE:
        return torch.linalg.eigh(gram)
    evals, vecs = torch.linalg.eigh(gram.cpu())
    return evals.to(gram.device, non_blocking=True), vecs.to(gram.device, non_blocking=True)


def eigh_descending(gram):
    """Eigenpairs of a symmetric positive semi-definite matrix, largest first."""
    evals, evecs = gram_eigh(gram)
    return evals.flip(-1).clamp_min(0.0), evecs.flip(-1)


def _inverse_gaps(kept, discarded):
    """``1 / (kept_i - discarded_j)``, smoothed near zero gaps and 0 on exact ties.

    ``kept`` is in increasing order, so its last entry is lambda_1.
    """
    finfo = torch.finfo(kept.dtype)
    gap = kept[:, None] - discarded
    lam1 = kept[-1]
    eps2 = torch.addcmul(
        torch.full_like(lam1, finfo.tiny), lam1, lam1, value=(_GAP_EPS_ULPS * finfo.eps) ** 2
    )
    return gap / torch.addcmul(eps2, gap, gap)


def _product(A_t, B, rows):
    """``A_t^T B`` (m x n) if ``rows``, else its transpose (n x m), contiguous either way."""
    return A_t.mT @ B if rows else B.mT @ A_t


class _RankTruncate(torch.autograd.Function):
    """``Y`` projected on the top-k eigenvectors of its smaller Gram matrix.

    With ``Yr = Y`` if B <= L, else ``Y^T`` (m x n, m <= n), the Gram matrix is
    ``Yr Yr^T`` (m x m); write ``W_K`` (m x k) for its kept eigenvectors, ``W_D``
    for the others and ``T = W_K^T Yr`` (k x n). The backward of the module
    docstring is then, with no m x m product involving ``Yr``::

        KG = W_K^T Gr                                  (k x n)
        U = KG Yr^T + T Gr^T                           (k x m)
        E^T = ((U W_D) * inverse_gaps) W_D^T           (k x m)
        grad_r = W_K (KG + E^T Yr) + E T

    The cost is O(k B L) plus the eigendecomposition of a min(B, L) square
    matrix. At these sizes the number of kernel calls and copies, not the
    arithmetic, is what costs: sums of products are fused in place
    (``addmm_``), the small factors are kept k x m, and the results are formed
    directly in Y's layout. Eigenpairs stay in ``eigh``'s increasing order: the
    order within the kept and within the discarded modes does not matter.
    """

    @staticmethod
    def forward(ctx, Y, k, eigh, sum_over_rows=None):
        # sum_over_rows: Y is one process's rows of a global batch (_distributed); the
        # L x L Gram matrix and U, the backward's one sum over rows, are summed over all.
        rows = sum_over_rows is None and Y.shape[0] <= Y.shape[1]
        Yr = Y if rows else Y.mT
        gram = Yr @ Yr.mT
        evals, vecs = eigh(gram if sum_over_rows is None else sum_over_rows(gram))
        m = vecs.shape[0]
        W_Kt = vecs[:, m - k :].mT.contiguous()
        coef = W_Kt @ Yr
        ctx.rows, ctx.sum_over_rows = rows, sum_over_rows
        ctx.save_for_backward(Y, evals, vecs, W_Kt, coef)
        return _product(W_Kt, coef, rows)

    @staticmethod
    def backward(ctx, G):
        Y, evals, vecs, W_Kt, coef = ctx.saved_tensors
        rows = ctx.rows
        Yr, Gr = (Y, G) if rows else (Y.mT, G.mT)
        m, k = vecs.shape[0], W_Kt.shape[0]
        W_D = vecs[:, : m - k]
        KG = W_Kt @ Gr
        U = (KG @ Yr.mT).addmm_(coef, Gr.mT)
        if ctx.sum_over_rows is not None:
            U = ctx.sum_over_rows(U)
        E_t = ((U @ W_D) * _inverse_gaps(evals[m - k :], evals[: m - k])) @ W_D.mT
        KG.addmm_(E_t, Yr)
        grad = _product(W_Kt, KG, rows)
        return (grad.addmm_(E_t.mT, coef) if rows else grad.addmm_(coef.mT, E_t)), None, None, None


def rank_truncate(Y, k, eigh=gram_eigh):
    """Best rank-``k`` approximation of a batch latent, differentiable and stable.

    Parameters
    ----------
    Y : torch.Tensor of shape (n_rows, latent_dim)
        Batch latent matrix (one row per sample).
    k : int
        Rank to keep. If ``k >= min(Y.shape)`` the matrix is returned unchanged.
    eigh : callable, default=the host-or-device ``torch.linalg.eigh``
        The symmetric eigensolver of the Gram matrix (increasing eigenvalues),
        for benchmarks that time or replace it.

    Returns
    -------
    Y_k : torch.Tensor of the same shape as ``Y``
        ``Y`` projected on its ``k`` leading right singular vectors.

    See Also
    --------
    rank_truncate_svd : The same projection through ``torch.linalg.svd`` and its
        stock backward (the test oracle and speed baseline).

    Notes
    -----
    This is the estimators' ``batch_truncation``: the function their training
    applies to every batch latent. A subclass of an estimator may set another
    one with the same signature, ``f(Z, k)``, to compare or instrument it.

    Examples
    --------
    >>> import torch
    >>> from sklearn_rrae._truncation import rank_truncate
    >>> Y = torch.randn(20, 8, generator=torch.Generator().manual_seed(0))
    >>> int(torch.linalg.matrix_rank(rank_truncate(Y, 2)))
    2
    """
    if k >= min(Y.shape):
        return Y
    return _RankTruncate.apply(Y, k, eigh)


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


# -- nested truncation: every row of the batch at its own rank, one decoder pass --------


class _LeadingEigenvectors(torch.autograd.Function):
    """The ``k`` leading eigenvectors of a symmetric matrix, with a backward that stays finite.

    First-order perturbation of eigenvector ``w_j``: ``dw_j = sum_l v_l (v_l^T dN
    w_j) / (lambda_j - lambda_l)`` over the other eigenvectors ``v_l``, so
    ``grad_N = V (F * (V^T G)) W^T`` (symmetrised), ``F_lj = 1 / (lambda_j -
    lambda_l)``, with the gaps smoothed as in the projector's backward above:
    exact where the gap is resolved, finite (0 on exact ties) where it is not.
    The nested truncation needs the vectors themselves, not only their span,
    hence gaps between kept modes too. Only kept columns enter: O(m^2 k), not
    the O(m^3) of a full eigendecomposition's backward (0.7 ms of a 2.5 ms step
    at 256 x 128, k = 10, measured here with all of them).
    """

    @staticmethod
    def forward(ctx, N, k):
        evals, vecs = gram_eigh(N)
        m = vecs.shape[0]
        W = vecs[:, m - k :].flip(-1)  # leading first
        ctx.save_for_backward(evals, vecs, W)
        return W

    @staticmethod
    def backward(ctx, G):
        evals, vecs, W = ctx.saved_tensors
        m, k = W.shape
        # (k, m) for the kept values in increasing order; flipped to W's order, transposed.
        inverse_gaps = _inverse_gaps(evals[m - k :], evals).flip(0).mT
        grad = (vecs @ ((vecs.mT @ G) * inverse_gaps)) @ W.mT
        return (grad + grad.mT) / 2, None


# One row in this many of a nested batch is truncated below the full rank (the
# smaller ranks in turn), the others at the full rank. 1 in 2 cost 3-9 % held-out
# MSE at the full rank on the digits (K = 5), 1 in 3 nothing there and 6 % on
# MNIST-20k (K = 10, 20 epochs), 1 in 6 still 3 % (benchmarks/NOTES.md).
_SMALLER_RANK_EVERY = 3


def nested_ranks(n_rows, k, device=None):
    """The rank of each row of a nested batch: every third row at 1..k-1 in turn, the others at ``k``.

    Deterministic (the batches are shuffled, so a sample meets every rank over
    the epochs), and the full rank keeps two rows in three: it is the one the
    model is used at most.
    """
    rows = torch.arange(n_rows, device=device)
    if k == 1:
        return torch.ones_like(rows)
    smaller = rows % _SMALLER_RANK_EVERY == _SMALLER_RANK_EVERY - 1
    return torch.where(smaller, 1 + (rows // _SMALLER_RANK_EVERY) % (k - 1), k)


def nested_rank_truncate(Y, k, ranks=None):
    """Each row of a batch latent projected on the leading right singular vectors of the batch.

    Row ``b`` is projected on the first ``ranks[b]`` right singular vectors of
    ``Y`` (the batch's rank-``ranks[b]`` approximation, read at that row), so one
    decoder pass trains the model at every rank up to ``k`` at once: the
    ``nested=True`` training of :class:`~sklearn_rrae.RRAETransformer`. With
    every rank equal to ``k`` it is :func:`rank_truncate`.

    Parameters
    ----------
    Y : torch.Tensor of shape (n_rows, latent_dim)
        Batch latent matrix (one row per sample).
    k : int
        The largest rank.
    ranks : torch.Tensor of shape (n_rows,) of int, default=None
        Each row's rank, between 1 and ``k``; None: :func:`nested_ranks`.

    Returns
    -------
    Y_nested : torch.Tensor of the same shape as ``Y``
        Row ``b`` of ``Y`` projected on the batch's first ``ranks[b]`` right
        singular vectors.

    See Also
    --------
    rank_truncate : Every row at rank ``k``, with the projector's closed-form backward.

    Examples
    --------
    >>> import torch
    >>> from sklearn_rrae._truncation import nested_rank_truncate, rank_truncate
    >>> Y = torch.randn(20, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.allclose(nested_rank_truncate(Y, 3, torch.full((20,), 3)), rank_truncate(Y, 3)))
    True
    """
    n_rows, latent_dim = Y.shape
    if ranks is None:
        ranks = nested_ranks(n_rows, k, Y.device)
    rows = n_rows <= latent_dim
    Yr = Y if rows else Y.mT
    m = Yr.shape[0]
    kept = min(k, m)
    W = _LeadingEigenvectors.apply(Yr @ Yr.mT, kept)  # leading singular vectors first
    mask = torch.arange(kept, device=Y.device) < ranks[:, None]
    if rows:  # W: left singular vectors; W^T Y: the singular values times V^T
        return (W * mask) @ (W.mT @ Y)
    return ((Y @ W) * mask) @ W.mT

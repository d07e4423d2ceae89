import pytest
import torch

from sklearn_rrae._basis import subspace_iteration, top_eigenpairs
from sklearn_rrae._truncation import eigh_descending, rank_truncate, rank_truncate_svd

SHAPES = [(6, 9, 2), (9, 6, 2), (5, 5, 1), (7, 3, 2), (4, 10, 3), (12, 12, 11)]


def _random(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("rows, cols, k", SHAPES)
def test_gradcheck_generic(rows, cols, k):
    Y = _random((rows, cols)).requires_grad_()
    assert torch.autograd.gradcheck(lambda y: rank_truncate(y, k), (Y,))


@pytest.mark.parametrize("rows, cols, k", SHAPES)
def test_matches_svd_reference(rows, cols, k):
    Y = _random((rows, cols)).requires_grad_()
    G = _random((rows, cols), seed=1)
    fast = rank_truncate(Y, k)
    ref = rank_truncate_svd(Y, k)
    torch.testing.assert_close(fast, ref)
    (g_fast,) = torch.autograd.grad(fast, Y, G)
    (g_ref,) = torch.autograd.grad(ref, Y, G)
    torch.testing.assert_close(g_fast, g_ref)


@pytest.mark.parametrize("rows, cols, k", SHAPES)
def test_output_has_rank_k(rows, cols, k):
    Y = _random((rows, cols))
    s = torch.linalg.svdvals(rank_truncate(Y, k))
    assert (s[:k] > 1e-8 * s[0]).all()
    assert (s[k:] < 1e-10 * s[0]).all()
    # And it is the best rank-k approximation (Eckart-Young): error = discarded energy.
    s_full = torch.linalg.svdvals(Y)
    err = torch.linalg.norm(Y - rank_truncate(Y, k))
    torch.testing.assert_close(err, s_full[k:].square().sum().sqrt())


def _degenerate_cases():
    eye = torch.zeros(6, 8, dtype=torch.float64)
    eye[[0, 1, 2], [0, 1, 2]] = 1.0  # repeated singular value 1, and zeros
    low_rank = _random((7, 2)) @ _random((2, 9), seed=3)  # rank 2, many zeros
    zeros = torch.zeros(5, 7, dtype=torch.float64)
    tall = (_random((10, 1)) @ _random((1, 4), seed=4)).repeat(1, 1)  # B > L, rank 1
    return {"repeated": eye, "low_rank": low_rank, "zeros": zeros, "tall_rank1": tall}


@pytest.mark.parametrize("case", list(_degenerate_cases()))
@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_finite_gradients_on_degenerate_spectra(case, k, dtype):
    Y = _degenerate_cases()[case].to(dtype).requires_grad_()
    G = _random(tuple(Y.shape), seed=5).to(dtype)
    out = rank_truncate(Y, k)
    (grad,) = torch.autograd.grad(out, Y, G)
    assert torch.isfinite(out).all()
    assert torch.isfinite(grad).all()


def test_reference_svd_backward_is_not_finite_on_degenerate_spectra():
    # Why the custom backward exists: the stock SVD backward breaks on these.
    Y = _degenerate_cases()["repeated"].requires_grad_()
    (grad,) = torch.autograd.grad(rank_truncate_svd(Y, 1).sum(), Y)
    assert not torch.isfinite(grad).all()


def test_gradient_exact_on_low_rank_input():
    # Rank-2 input truncated to k=2 (zero discarded values): gradient is the exact
    # tangent-space projection; check against finite differences.
    Y = (_random((6, 2)) @ _random((2, 8), seed=2)).requires_grad_()
    assert torch.autograd.gradcheck(lambda y: rank_truncate(y, 2), (Y,))


def test_no_op_when_rank_exceeds_shape():
    Y = _random((3, 5))
    assert rank_truncate(Y, 3) is Y


@pytest.mark.parametrize("m", [200, 300], ids=["lapack", "iteration"])
@pytest.mark.parametrize("decay", [0.3, 0.9, 0.999], ids=["fast", "slow", "fallback"])
@pytest.mark.parametrize("k", [1, 4])
def test_top_eigenpairs_matches_eigh(m, decay, k):
    Q = torch.linalg.qr(_random((m, m))).Q
    lam = 50.0 * decay ** torch.arange(m, dtype=torch.float64)
    M = (Q * lam) @ Q.mT
    if m > 256:  # the iteration answers, except where it gives up (the flat spectrum)
        assert (subspace_iteration(M, k) is None) == (decay == 0.999)
    evals, vecs = top_eigenpairs(M, k)
    torch.testing.assert_close(evals, lam[:k], rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(vecs.mT @ vecs, torch.eye(k, dtype=torch.float64))
    # Same vectors as the true ones, up to sign.
    eye = torch.eye(k, dtype=torch.float64)
    torch.testing.assert_close((vecs.mT @ Q[:, :k]).abs(), eye, atol=1e-7, rtol=0)


@pytest.mark.parametrize("m", [100, 300], ids=["lapack", "iteration"])
def test_top_eigenpairs_on_low_rank_and_repeated_spectra(m):
    low_rank = _random((m, 2)) @ _random((2, m), seed=1)
    M = low_rank @ low_rank.mT  # rank 2, asked for 3
    evals, vecs = top_eigenpairs(M, 3)
    torch.testing.assert_close(evals, eigh_descending(M)[0][:3], rtol=1e-8, atol=1e-8)
    torch.testing.assert_close(vecs.mT @ vecs, torch.eye(3, dtype=torch.float64))
    M = torch.diag(torch.tensor([5.0, 5.0, 5.0] + [0.1] * (m - 3), dtype=torch.float64))
    evals, vecs = top_eigenpairs(M, 2)
    torch.testing.assert_close(evals, torch.tensor([5.0, 5.0], dtype=torch.float64))
    assert torch.linalg.norm(M @ vecs - vecs * evals) < 1e-9  # the solver tolerance, 1e-10 * theta_1


def _with_spectrum(rows, cols, singular_values, seed=0):
    U = torch.linalg.qr(_random((rows, rows), seed)).Q[:, : len(singular_values)]
    V = torch.linalg.qr(_random((cols, cols), seed + 1)).Q[:, : len(singular_values)]
    return (U * torch.tensor(singular_values, dtype=torch.float64)) @ V.mT


@pytest.mark.parametrize("rows, cols", [(8, 11), (11, 8)])
def test_exact_gradient_on_degenerate_discarded_spectrum(rows, cols):
    # Repeated and zero singular values among the discarded ones, positive gap at k:
    # the truncation is differentiable there; its Jacobian agrees with finite
    # differences, and with the SVD reference wherever that one is finite (the stock
    # SVD backward gives NaN here with some LAPACK builds: seen with torch 2.11+cu130).
    Y = _with_spectrum(rows, cols, [3.0, 2.0, 1.0, 1.0, 0.5, 0.5, 0.0]).requires_grad_()
    assert torch.autograd.gradcheck(lambda y: rank_truncate(y, 2), (Y,))
    torch.testing.assert_close(rank_truncate(Y, 2), rank_truncate_svd(Y, 2))
    G = _random((rows, cols), seed=7)
    (g_fast,) = torch.autograd.grad(rank_truncate(Y, 2), Y, G)
    (g_ref,) = torch.autograd.grad(rank_truncate_svd(Y, 2), Y, G)
    assert torch.isfinite(g_fast).all()
    if torch.isfinite(g_ref).all():
        torch.testing.assert_close(g_fast, g_ref)


def test_gradient_on_repeated_kept_values():
    # Repeated values among the kept ones do not matter either.
    Y = _with_spectrum(9, 7, [2.0, 2.0, 2.0, 1.0, 0.3]).requires_grad_()
    assert torch.autograd.gradcheck(lambda y: rank_truncate(y, 3), (Y,))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("rows, cols, k", [(20, 300, 2), (256, 128, 10), (600, 300, 3)])
def test_cuda_matches_svd_reference(rows, cols, k):
    # Small Gram matrices are diagonalised on the host, large ones on the device.
    Y = _random((rows, cols)).cuda().requires_grad_()
    G = _random((rows, cols), seed=1).cuda()
    fast = rank_truncate(Y, k)
    ref = rank_truncate_svd(Y, k)
    assert fast.device == Y.device
    torch.testing.assert_close(fast, ref)
    torch.testing.assert_close(torch.autograd.grad(fast, Y, G)[0], torch.autograd.grad(ref, Y, G)[0])

"""A Jacobi eigensolver of torch operations only, for the truncation: how many sweeps (issue 21)?

Usage: python benchmarks/studies/jacobi_eigh.py [--epochs 30] [--sweeps 6 8 10 12 15]

On an accelerator, ``torch.linalg.eigh`` of the truncation's small Gram matrix
runs on the host (``_truncation.gram_eigh``: a copy to the host and back, which
makes the device wait every step) or calls cuSOLVER (about a millisecond whatever
the size below a few hundred, measured on an H100). A solver that never leaves the
device and never reads a value back: a fixed number of sweeps, each of ``m - 1``
rounds that rotate ``m / 2`` disjoint pairs of coordinates at once (a round-robin
ordering), about 17 batched kernels a round whatever ``m``. This script measures
what it would cost: the sweeps it needs for a projector error of 1e-5 (the issue's
bar) on the Gram matrices of real training steps (digits, k = 5, from the PCA start
and from random weights, as ``warm_eigh.py`` records them) and on the paper's shape
(a batch of 20 latents of length 2800: a 20 x 20 Gram matrix), in float32 and in
float64 (on a GPU the kernels are launch-bound at this size, so float64 would cost
nothing), and its CPU time per call against LAPACK's. Not in the package: see
benchmarks/NOTES.md ("Training loop (issue 21, CPU part)").
"""

import argparse
import math
import time

import numpy as np
import torch
from warm_eigh import projector_error, training_grams

# The sweeps of the CPU timing column; the error columns take --sweeps.
DEFAULT_SWEEPS = 8


def _round_robin(m):
    """The ``m - 1`` layouts of a round-robin tournament of ``m`` (even) players.

    In each layout positions ``2i`` and ``2i + 1`` are paired; over the ``m - 1``
    layouts every pair of players meets exactly once (player 0 stays, the others
    turn one place a round).
    """
    players = list(range(m))
    layouts = []
    for _ in range(m - 1):
        top, bottom = players[: m // 2], players[m // 2 :][::-1]
        layouts.append([p for pair in zip(top, bottom, strict=True) for p in pair])
        players = [players[0], players[-1], *players[1:-1]]
    return layouts


def _moves(m, device):
    """Index tensors taking each layout to the next, and the first layout."""
    layouts = _round_robin(m)
    moves = []
    for current, following in zip(layouts, layouts[1:] + layouts[:1], strict=True):
        position = {p: i for i, p in enumerate(current)}
        moves.append(torch.tensor([position[p] for p in following], device=device))
    return torch.tensor(layouts[0], device=device), moves


def _rotations(B):
    """``G^T`` (h x 2 x 2) of the rotations that zero each pair's off-diagonal entry.

    For ``[[a, b], [b, d]]`` the angle is ``theta = atan2(2 b, a - d) / 2``, brought
    into [-pi/4, pi/4] (the inner rotation, which the convergence of cyclic Jacobi
    needs); a pair already diagonal (``b = 0``, ``a = d``) gets the identity.
    """
    diagonal = B.diagonal()
    a, d, b = diagonal[0::2], diagonal[1::2], B.diagonal(1)[0::2]
    theta = torch.atan2(2 * b, a - d) / 2
    theta = theta - (math.pi / 2) * torch.round(theta / (math.pi / 2))
    c, s = torch.cos(theta), torch.sin(theta)
    # G = [[c, -s], [s, c]]; G^T B G is diagonal in each pair.
    return torch.stack([torch.stack([c, s], -1), torch.stack([-s, c], -1)], -2)


def jacobi_eigh(A, sweeps=DEFAULT_SWEEPS):
    """Eigenvalues (increasing) and eigenvectors of a symmetric matrix, as ``torch.linalg.eigh``.

    Parameters
    ----------
    A : torch.Tensor of shape (m, m)
        Symmetric (only its values are used, not checked).
    sweeps : int, default=DEFAULT_SWEEPS
        Sweeps of ``m - 1`` rounds; a fixed number, so that nothing is read back.

    Returns
    -------
    eigenvalues : torch.Tensor of shape (m,)
        In increasing order.
    eigenvectors : torch.Tensor of shape (m, m)
        Orthonormal columns, column ``j`` for ``eigenvalues[j]``.
    """
    m = A.shape[-1]
    if m == 1:
        return A.reshape(1).clone(), torch.ones_like(A)
    padded = m + m % 2  # an odd size gets a zero row and column: its pairs never rotate
    B = A.new_zeros(padded, padded)
    B[:m, :m] = A
    h = padded // 2
    first, moves = _moves(padded, A.device)  # built on the host, once per call
    B = B[first[:, None], first]
    Vt = torch.eye(padded, dtype=A.dtype, device=A.device)[first]  # rows: eigenvectors, in B's layout
    with torch.no_grad():
        for _ in range(sweeps):
            for move in moves:
                Gt = _rotations(B)
                B = (Gt @ B.view(h, 2, padded)).view(padded, padded)  # G^T B
                B = (Gt @ B.mT.reshape(h, 2, padded)).view(padded, padded)  # G^T (G^T B)^T = G^T B G
                Vt = (Gt @ Vt.view(h, 2, padded)).view(padded, padded)
                B, Vt = B[move[:, None], move], Vt[move]
    # After whole sweeps B is in the first layout again; the padding's coordinate (a zero
    # row and column, never rotated) is dropped by its known position: no read-back.
    real = torch.tensor([i for i, p in enumerate(first.tolist()) if p < m], device=A.device)
    eigenvalues, order = torch.sort(B.diagonal()[real])
    return eigenvalues, Vt[real[order], :m].mT.contiguous()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--sweeps", type=int, nargs="+", default=[6, 8, 10, 12, 15])
    args = parser.parse_args()
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    paper = []
    for _ in range(4):
        Y = torch.randn(20, 2800, generator=g) * torch.logspace(0, -3, 20)[:, None]
        paper.append(Y @ Y.mT)
    sets = [(f"digits steps, {init} start", training_grams(init, args.epochs)) for init in ("auto", "random")]
    sets = [(name, [grams[i] for i in np.linspace(0, len(grams) - 1, 4).astype(int)]) for name, grams in sets]
    sets.append(("paper shape 20 x 2800, spectrum over 1e3", paper))
    print(
        "| matrices (4 each) | m | dtype | "
        + " | ".join(f"{s} sweeps" for s in args.sweeps)
        + f" | float32 LAPACK | Jacobi ms/call ({DEFAULT_SWEEPS} sweeps) | LAPACK ms/call |"
    )
    print("|---" * (6 + len(args.sweeps)) + "|")
    for name, grams in sets:
        m = grams[0].shape[0]
        for dtype in (torch.float32, torch.float64):
            cells = []
            for sweeps in args.sweeps:
                worst = max(projector_error(A, jacobi_eigh(A.to(dtype), sweeps)[1]) for A in grams)
                cells.append(f"{worst:.1e}")
            lapack = max(projector_error(A, torch.linalg.eigh(A)[1]) for A in grams)
            A = grams[0].to(dtype)
            start = time.perf_counter()
            jacobi_eigh(A)
            jacobi_ms = 1e3 * (time.perf_counter() - start)
            start = time.perf_counter()
            for _ in range(20):
                torch.linalg.eigh(A)
            lapack_ms = 1e3 * (time.perf_counter() - start) / 20
            print(
                f"| {name} | {m} | {str(dtype)[6:]} | "
                + " | ".join(cells)
                + f" | {lapack:.1e} | {jacobi_ms:.1f} | {lapack_ms:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

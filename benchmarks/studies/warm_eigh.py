"""Can the truncation's eigensolver be warm-started from the previous training step (issue 21)?

Usage: python benchmarks/studies/warm_eigh.py [--epochs 30] [--iterations 1 2 3 4]

A device-side eigensolver built only from matrix products would spare a GPU the
host round trip of ``torch.linalg.eigh``; the natural candidate is the iterative
refinement of Ogita and Aishima (2018), which improves approximate eigenvectors
``X`` of a symmetric ``A`` with a few products (``R = I - X^T X``, ``S = X^T A X``,
``X <- X + X E`` with ``E_ij = (s_ij + l_j r_ij) / (l_j - l_i)`` for resolved gaps)
and converges quadratically when ``X`` is close, warm-started from the previous
step's eigenvectors. This script records the Gram matrix of every training step
of a digits fit (k = 5, 30 epochs, PCA start and random weights) and measures,
against float64 ``eigh`` of each step's matrix:

- how far the previous step's top-k subspace is from this step's (projector
  distance, relative), and how far its individual eigenvectors are (the largest
  off-diagonal entry of ``S`` in the kept block, relative to ``lambda_1``);
- the projector error after 1 to 4 refinement iterations from the previous
  step's eigenvectors, and float32 LAPACK's own error.

Prints one table; CPU only (what it measures does not depend on the device).
"""

import argparse

import numpy as np
import torch
from sklearn.datasets import load_digits

from sklearn_rrae import RRAETransformer
from sklearn_rrae._truncation import rank_truncate

K = 5


def training_grams(init, epochs):
    grams = []

    def capture(Y, k):
        Yd = Y.detach()
        Yr = Yd if Yd.shape[0] <= Yd.shape[1] else Yd.mT
        grams.append(Yr @ Yr.mT)
        return rank_truncate(Y, k)

    class Capturing(RRAETransformer):
        batch_truncation = staticmethod(capture)

    Capturing(n_components=K, random_state=0, max_epochs=epochs, init=init, early_stopping=False).fit(
        load_digits().data
    )
    return [g for g in grams if g.shape == grams[0].shape]


def refine(A, X, iterations):
    """Ogita-Aishima refinement of approximate eigenvectors ``X`` (columns) of ``A``."""
    eye = torch.eye(A.shape[0], dtype=A.dtype)
    norm_a = torch.linalg.matrix_norm(A)
    for _ in range(iterations):
        R = eye - X.mT @ X
        S = X.mT @ (A @ X)
        lam = S.diagonal() / (1 - R.diagonal())
        off = S - torch.diag(lam)
        delta = 2 * (torch.linalg.matrix_norm(off) + norm_a * torch.linalg.matrix_norm(R))
        gap = lam[None, :] - lam[:, None]
        E = torch.where(gap.abs() > delta, (S + lam[None, :] * R) / gap, R / 2)
        E.diagonal().copy_(R.diagonal() / 2)
        X = X + X @ E
    return X[:, torch.argsort(lam)]


def projector_error(A, X):
    V = torch.linalg.eigh(A.double())[1][:, -K:]
    P = V @ V.mT
    Q = X[:, -K:].double()
    return float(torch.linalg.matrix_norm(Q @ Q.mT - P) / torch.linalg.matrix_norm(P))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--iterations", type=int, nargs="+", default=[1, 2, 3, 4])
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(
        "| start | steps | subspace moved (median, max) | kept vectors moved (median, max) | "
        + " | ".join(f"refined x{i} (median, max)" for i in args.iterations)
        + " | float32 eigh (median, max) |"
    )
    print("|---" * (5 + len(args.iterations)) + "|")
    for init in ("auto", "random"):
        grams = training_grams(init, args.epochs)
        previous = [torch.linalg.eigh(g)[1] for g in grams[:-1]]
        moved = [projector_error(g, X) for g, X in zip(grams[1:], previous, strict=True)]
        rotated = []
        for g, X in zip(grams[1:], previous, strict=True):
            S = X[:, -K:].mT @ g @ X[:, -K:]
            rotated.append(float((S - torch.diag(S.diagonal())).abs().max() / S.diagonal().max()))
        cells = []
        for iterations in args.iterations:
            errors = [
                projector_error(g, refine(g, X, iterations)) for g, X in zip(grams[1:], previous, strict=True)
            ]
            cells.append(errors)
        lapack = [projector_error(g, torch.linalg.eigh(g)[1]) for g in grams[1:]]

        def cell(values):
            return f"{np.median(values):.1e}, {np.max(values):.1e}"

        print(
            f"| {init} | {len(grams) - 1} | {cell(moved)} | {cell(rotated)} | "
            + " | ".join(cell(c) for c in cells)
            + f" | {cell(lapack)} |"
        )


if __name__ == "__main__":
    main()

"""What bounds the rank truncation's cost on a CPU: four tables.

Usage: python benchmarks/studies/truncation_floor.py

Companion to ``truncation_overhead.py``, which measures the truncation's cost
inside fits. Each timing here is the median over repeated calls.

1. Eigensolvers for an m x m Gram matrix: ``torch.linalg.eigh`` in float32 and
   float64, LAPACK's drivers through SciPy (``syevd``, ``syevr``, ``syev``; on one
   BLAS thread as well), the reduction to tridiagonal form that all of them start
   with (``ssytrd``), ``eigvalsh``, and one m x m matrix product for scale.
2. Cold calls: one ``eigh`` right after another, after a large matrix product,
   after 2 ms of a busy Python loop and after a 2 ms sleep, on torch's threads and
   on one thread (to tell thread wake-ups from cache eviction).
3. The truncation's forward and backward alone at the three shapes of
   ``truncation_overhead.py`` (timed as its "fwd+bwd" column is), with its
   ``eigh`` and with the eigenpairs cached (timing only: wrong values), beside a
   trivial autograd function.
4. Warm starts: in a fit at each shape (fewer epochs than the overhead
   benchmark), from the middle of training on, how far the kept subspace of the
   batch Gram matrix moves from one step to the next, the gap
   lambda_(k+1) / lambda_k, and how far from diagonal the Gram matrix is in the
   previous step's eigenvectors; what a warm-started eigensolver would start from.
"""

import functools
import statistics
import sys
import time
from pathlib import Path

# Run as `python benchmarks/studies/truncation_floor.py`: put benchmarks/ on the path
# for _common and truncation_overhead.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch
from _common import machine
from scipy.linalg import lapack
from threadpoolctl import threadpool_limits
from truncation_overhead import SHAPES, truncation_microseconds

from sklearn_rrae import RRAETransformer
from sklearn_rrae._truncation import gram_eigh, rank_truncate


def median_us(fn, repeats=300, warmup=20):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e6 * statistics.median(times)


def truncation_calling(eigh):
    """The package's truncation, ``eigh`` for its Gram matrix eigendecomposition."""
    return functools.partial(rank_truncate, eigh=eigh)


def gram(m, seed=0):
    A = torch.randn(m, 2 * m, generator=torch.Generator().manual_seed(seed))
    return A @ A.mT


def eigensolver_row(m):
    G = gram(m)
    G64, Gn = G.double(), G.numpy()
    row = [
        median_us(lambda: torch.linalg.eigh(G)),
        median_us(lambda: torch.linalg.eigh(G64)),
        median_us(lambda: lapack.ssyevd(Gn, compute_v=1, lower=1)),
    ]
    with threadpool_limits(1):
        row.append(median_us(lambda: lapack.ssyevd(Gn, compute_v=1, lower=1)))
    row.append(median_us(lambda: lapack.ssyevr(Gn, compute_v=1, lower=1)))
    with threadpool_limits(1):
        row.append(median_us(lambda: lapack.ssyevr(Gn, compute_v=1, lower=1)))
        row.append(median_us(lambda: lapack.ssyev(Gn, compute_v=1, lower=1)))
    row.append(median_us(lambda: lapack.ssytrd(Gn)))
    row.append(median_us(lambda: torch.linalg.eigvalsh(G)))
    row.append(median_us(lambda: G @ G))
    return row


def eigensolver_table():
    print(
        "| m | torch eigh f32 | torch eigh f64 | ssyevd | ssyevd, 1 BLAS thread | ssyevr | ssyevr, 1 thread "
        "| ssyev, 1 thread | ssytrd | torch eigvalsh f32 | m x m product |"
    )
    print("|---" * 11 + "|")
    for m in (20, 64, 128):
        print(f"| {m} | " + " | ".join(f"{us:.0f}" for us in eigensolver_row(m)) + " |", flush=True)


def cold_table(rounds=200):
    A, W = torch.randn(256, 784), torch.randn(784, 256)

    def busy(seconds):
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            pass

    befores = {
        "right after another": lambda: None,
        "after a 256 x 784 x 256 product": lambda: A @ W,
        "after 2 ms busy Python": lambda: busy(0.002),
        "after 2 ms sleep": lambda: time.sleep(0.002),
    }
    print("\n| m | threads | " + " | ".join(befores) + " |")
    print("|---" * (2 + len(befores)) + "|")
    threads = torch.get_num_threads()
    for m in (20, 128):
        G = gram(m)
        for n in sorted({threads, 1}, reverse=True):
            torch.set_num_threads(n)
            times = {name: [] for name in befores}
            for _ in range(rounds):
                for name, before in befores.items():
                    torch.linalg.eigh(G)
                    before()
                    start = time.perf_counter()
                    torch.linalg.eigh(G)
                    times[name].append(time.perf_counter() - start)
            cells = " | ".join(f"{1e6 * statistics.median(t):.0f}" for t in times.values())
            print(f"| {m} | {n} | {cells} |", flush=True)
    torch.set_num_threads(threads)


def alone_row(batch, latent, k):
    """Truncation fwd+bwd with and without its eigh, the eigh, a trivial autograd function."""
    full = truncation_microseconds(batch, latent, k, "cpu", rank_truncate)
    first = []  # (Gram matrix, its eigenpairs) of the first call

    def cached_eigh(N):
        if not first:
            first.append((N, torch.linalg.eigh(N)))
        return first[0][1]

    no_eigh = truncation_microseconds(batch, latent, k, "cpu", truncation_calling(cached_eigh))
    N = first[0][0]
    eigh_us = median_us(lambda: torch.linalg.eigh(N))
    g = torch.Generator().manual_seed(0)
    Y = torch.randn(batch, latent, generator=g).requires_grad_()
    G = torch.randn(batch, latent, generator=g)
    trivial = median_us(lambda: torch.autograd.grad(Y * 1.0, Y, G))
    return [full, no_eigh, eigh_us, trivial]


def alone_table():
    print(
        "\n| shape | batch x latent, k | truncation fwd+bwd (us) | same, eigenpairs cached (us) "
        "| its eigh alone (us) | trivial autograd function fwd+bwd (us) |"
    )
    print("|---" * 6 + "|")
    for name, _, _, batch, latent, k, _, _ in SHAPES:
        cells = " | ".join(f"{us:.0f}" for us in alone_row(batch, latent, k))
        print(f"| {name} | {batch} x {latent}, {k} | {cells} |", flush=True)


def recorded_grams(n, D, batch, latent, k, hidden, epochs):
    """The batch Gram matrices a fit diagonalises, in float64, in order."""
    grams = []

    def recording_eigh(N):
        if N.shape[0] == min(batch, latent):  # not a merged, larger last batch
            grams.append(N.detach().double().clone())
        return gram_eigh(N)

    class RecordingRRAE(RRAETransformer):
        batch_truncation = staticmethod(truncation_calling(recording_eigh))

    X = np.random.RandomState(0).normal(size=(n, D)).astype(np.float32)
    est = RecordingRRAE(
        n_components=k,
        latent_dim=latent,
        hidden_layer_sizes=hidden,
        batch_size=batch,
        max_epochs=epochs,
        random_state=0,
    )
    est.fit(X)
    return grams


def drift(grams, k):
    """Per step: largest angle (degrees) between consecutive kept subspaces, the gap
    lambda_(k+1) / lambda_k, and ||offdiag|| / ||diag|| of the Gram matrix in the previous
    step's eigenvectors."""
    angles, gaps, off_diagonal, previous = [], [], [], None
    for N in grams:
        evals, vecs = torch.linalg.eigh(N)
        evals, vecs = evals.flip(0), vecs.flip(1)
        gaps.append(float(evals[k] / evals[k - 1]))
        if previous is not None:
            cosines = torch.linalg.svdvals(previous[:, :k].mT @ vecs[:, :k]).clamp(max=1)
            angles.append(float(torch.rad2deg(torch.arccos(cosines.min()))))
            H = previous.mT @ N @ previous
            diagonal = torch.diagonal(H)
            off_diagonal.append(float((H - torch.diag(diagonal)).norm() / diagonal.norm()))
        previous = vecs
    return angles, gaps, off_diagonal


def drift_table():
    print(
        "\n| shape | steps | largest angle between consecutive kept subspaces (deg), p10 / p50 / p90 "
        "| lambda_(k+1) / lambda_k, p10 / p50 / p90 "
        "| off-diagonal / diagonal norm in previous eigenvectors, p10 / p50 / p90 |"
    )
    print("|---" * 5 + "|")
    epochs = {"MNIST-like": 2, "paper": 2, "full batch": 30}
    for name, n, D, batch, latent, k, hidden, _ in SHAPES:
        grams = recorded_grams(n, D, batch, latent, k, hidden, epochs[name])
        grams = grams[len(grams) // 2 :]  # from the middle of training on
        cells = " | ".join(
            " / ".join(f"{v:.3g}" for v in np.percentile(values, [10, 50, 90])) for values in drift(grams, k)
        )
        print(f"| {name} | {len(grams)} | {cells} |", flush=True)


def main():
    print(f"machine: {machine()}\n")
    eigensolver_table()
    cold_table()
    alone_table()
    drift_table()


if __name__ == "__main__":
    main()

"""Which eigensolver for the global basis: subspace iteration or SciPy's ``eigh(subset_by_index)``.

Usage: python benchmarks/studies/basis_eigensolver.py [--repeats 31]

The basis is the top k eigenvectors of a float64 latent Gram matrix (L x L, or
N x N with fewer samples than latent dimensions). This fits a model at each
shape, takes the Gram matrix its basis is built from, and times, interleaved,
block subspace iteration (falling back to LAPACK where it gives up) against
``scipy.linalg.eigh(subset_by_index=[m - k, m - 1])`` (LAPACK's ``dsyevr``, only
the wanted eigenpairs), both from and to torch tensors as the basis needs them;
``sklearn_rrae._basis.top_eigenpairs`` picks between the two by size from these
numbers. Prints median times and the largest angle between the two
subspaces.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

# Run as `python benchmarks/studies/basis_eigensolver.py`: put benchmarks/ on the path for _common.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch
from _common import machine
from sklearn.datasets import load_digits

from sklearn_rrae import RRAETransformer
from sklearn_rrae._basis import lapack_top_eigenpairs, subspace_iteration
from sklearn_rrae._data import training_rows
from sklearn_rrae.datasets import make_two_gaussians


def default_shape():
    X, _ = load_digits(return_X_y=True)
    return "default (digits, L=128)", X, dict(n_components=5)


def paper_bumps():
    X, _, _, _ = make_two_gaussians(random_state=0)
    params = dict(n_components=2, latent_dim=2800, hidden_layer_sizes=(64,), batch_size=20, max_epochs=50)
    return "paper (two bumps, N=100, L=2800)", X, params


def paper_size():
    X = np.random.RandomState(0).normal(size=(1000, 1200))
    params = dict(n_components=2, latent_dim=2800, hidden_layer_sizes=(64,), batch_size=20, max_epochs=3)
    return "paper size (N=1000, L=2800)", X, params


def wide_latent():
    X = np.random.RandomState(0).normal(size=(4000, 300)) @ np.random.RandomState(1).normal(size=(300, 784))
    return "wide latent (N=4000, L=1000)", X, dict(n_components=10, latent_dim=1000, max_epochs=3)


def basis_gram(X, params):
    """The Gram matrix the fitted model's basis comes from, and its k."""
    est = RRAETransformer(random_state=0, **params).fit(X)
    module = est.module_.eval()
    data = training_rows(X, est._scaling.to_model, "cpu")
    with torch.no_grad():
        Z = torch.cat([module.encode(chunk) for chunk in data.chunks()]).double()
    gram = Z @ Z.mT if len(Z) < Z.shape[1] else Z.mT @ Z
    return gram, est.n_components_


def iteration_top(gram, k):
    found = subspace_iteration(gram, k)
    return lapack_top_eigenpairs(gram, k) if found is None else found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=31)
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    print("| shape | Gram | k | iteration (ms) | scipy subset (ms) | scipy / iteration | angle (deg) |")
    print("|---" * 7 + "|")
    for make in (default_shape, paper_bumps, paper_size, wide_latent):
        name, X, params = make()
        gram, k = basis_gram(X, params)
        solvers = {"ours": iteration_top, "scipy": lapack_top_eigenpairs}
        times = {key: [] for key in solvers}
        for i in range(args.repeats + 2):
            for key in sorted(solvers, reverse=bool(i % 2)):  # interleaved, order alternating
                start = time.perf_counter()
                solvers[key](gram, k)
                if i >= 2:
                    times[key].append(time.perf_counter() - start)
        ours, theirs = (statistics.median(times[key]) * 1e3 for key in ("ours", "scipy"))
        V1, V2 = iteration_top(gram, k)[1], lapack_top_eigenpairs(gram, k)[1]
        cosines = torch.linalg.svdvals(V1.mT @ V2).clamp(max=1)
        angle = float(torch.rad2deg(torch.arccos(cosines.min())))
        m = gram.shape[0]
        print(
            f"| {name} | {m} x {m} | {k} | {ours:.3f} | {theirs:.3f} | {theirs / ours:.2f} | {angle:.1e} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

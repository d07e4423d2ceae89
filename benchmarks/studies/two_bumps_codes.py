"""Why ``n_init`` helps on two Gaussian bumps: the codes of the training grid, one start against ten.

Usage: python benchmarks/studies/two_bumps_codes.py [--seed 0] [--figure docs/figures/two_bumps_codes.png]

Fits ``RRAETransformer(n_components=2, random_state=seed)`` with ``n_init=1`` and
``n_init=10`` on ``make_two_gaussians(random_state=0)`` and prints, for each,
the trustworthiness of the codes of the 10 x 10 training grid (10 neighbours),
the paper's interpolation error and the fit time. The figure draws the codes
of the training grid as a mesh: lines join neighbouring grid parameters, so a
folded mesh (grid lines that cross) shows codes that bring distant parameters
together, which is what ruins interpolation.
"""

import argparse
import sys
import time
from pathlib import Path

# Run as `python benchmarks/studies/two_bumps_codes.py`: put benchmarks/ on the path for _common.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import interpolation_error, machine
from sklearn.manifold import trustworthiness

from sklearn_rrae import RRAETransformer, datasets


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", help="where to save the figure (default: none)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    X, X_test, p, p_test = datasets.make_two_gaussians(random_state=0)
    print("| n_init | trustworthiness of the training codes | interpolation error (%) | fit (s) |")
    print("|---|---|---|---|")
    codes = {}
    for n_init in (1, 10):
        start = time.perf_counter()
        model = RRAETransformer(n_components=2, n_init=n_init, random_state=args.seed).fit(X)
        seconds = time.perf_counter() - start
        codes[n_init] = model.transform(X)
        trust = trustworthiness(X, codes[n_init], n_neighbors=10)
        error = 100 * interpolation_error(model, X, X_test, p, p_test)
        print(f"| {n_init} | {trust:.3f} | {error:.2f} | {seconds:.1f} |", flush=True)
    if args.figure:
        save_figure(codes, args.figure)


def save_figure(codes, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, (n_init, C) in zip(axes, codes.items(), strict=True):
        grid = C.reshape(10, 10, 2)  # p1 along the first axis, p2 along the second
        for i in range(10):
            ax.plot(*grid[i].T, color="tab:blue", lw=0.8)
            ax.plot(*grid[:, i].T, color="tab:orange", lw=0.8)
        ax.scatter(*C.T, s=6, color="k")
        ax.set_title(f"n_init={n_init}")
        ax.set_xlabel("code 1")
        ax.set_ylabel("code 2")
    fig.suptitle("Codes of the 10 x 10 training grid (blue: p2 varies, orange: p1 varies)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()

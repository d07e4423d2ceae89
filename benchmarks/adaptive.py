"""Does AdaptiveRRAETransformer find the right rank, at what cost?

Usage: python benchmarks/adaptive.py [--seeds 5] [--problems ...] [--skip-mnist]

Defaults only. For the five synthetic problems of the reference (known intrinsic
dimension d): the rank found with each seed, and the fit time over that of
RRAETransformer(n_components=found rank) with the same seed. For digits and
MNIST-20k (no known rank): the rank found, and the held-out MSE of the adaptive
model over that of RRAETransformer(n_components=found rank).
"""

import argparse
import statistics
import time

import numpy as np
from _common import digits, machine, mnist, mse

from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer, datasets

SYNTHETIC = [
    ("shifted sine", lambda: datasets.make_shifted_sine(random_state=0)[:2], 1),
    ("shifted Gaussian bump", lambda: datasets.make_shifted_gaussian()[:2], 1),
    ("two Gaussian bumps", lambda: datasets.make_two_gaussians(random_state=0)[:2], 2),
    ("two sines", lambda: datasets.make_two_sines(random_state=0)[:2], 2),
    ("2-D Gaussian blob", lambda: datasets.make_gaussian_blob(random_state=0)[:2], 2),
]
REAL = [("digits 70/30", digits), ("MNIST-20k", mnist)]


def timed_fit(model, X):
    start = time.perf_counter()
    model.fit(X)
    return model, time.perf_counter() - start


def compare(X_train, X_test, seed):
    adaptive, t_adaptive = timed_fit(AdaptiveRRAETransformer(random_state=seed), X_train)
    fixed, t_fixed = timed_fit(
        RRAETransformer(n_components=adaptive.n_components_, random_state=seed), X_train
    )
    mse_adaptive = mse(X_test, adaptive.inverse_transform(adaptive.transform(X_test)))
    mse_fixed = mse(X_test, fixed.inverse_transform(fixed.transform(X_test)))
    return adaptive.n_components_, t_adaptive / t_fixed, mse_adaptive / mse_fixed, t_adaptive


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--problems", nargs="+", help="names to run (default: all)")
    parser.add_argument("--skip-mnist", action="store_true")
    args = parser.parse_args()
    seeds = range(args.seeds)
    wanted = lambda name: args.problems is None or name in args.problems  # noqa: E731
    print(f"machine: {machine()}\n")
    print(
        "| problem | d | rank found per seed | d or d+1 | exactly d | "
        "time / fixed-rank time: median (max) | adaptive fit (s), median |"
    )
    print("|---" * 7 + "|")
    for name, load, d in SYNTHETIC:
        if not wanted(name):
            continue
        X_train, X_test = load()
        rows = [compare(X_train, X_test, seed) for seed in seeds]
        ranks = [r[0] for r in rows]
        ratios = [r[1] for r in rows]
        near = sum(r in (d, d + 1) for r in ranks)
        exact = sum(r == d for r in ranks)
        seconds = statistics.median(r[3] for r in rows)
        print(
            f"| {name} | {d} | {', '.join(map(str, ranks))} | {near}/{len(ranks)} | {exact}/{len(ranks)} | "
            f"{statistics.median(ratios):.2f} ({max(ratios):.2f}) | {seconds:.1f} |",
            flush=True,
        )
    print()
    print(
        "| data | rank found per seed | held-out MSE adaptive / fixed at that rank: median (max) | "
        "time / fixed-rank time: median (max) |"
    )
    print("|---" * 4 + "|")
    for name, load in REAL:
        if not wanted(name) or (args.skip_mnist and "MNIST" in name):
            continue
        X_train, X_test = load()
        rows = [compare(X_train, X_test, seed) for seed in seeds]
        ranks = [r[0] for r in rows]
        quality = [r[2] for r in rows]
        ratios = [r[1] for r in rows]
        print(
            f"| {name} | {', '.join(map(str, ranks))} | "
            f"{statistics.median(quality):.3f} ({max(quality):.3f}) | "
            f"{statistics.median(ratios):.2f} ({max(ratios):.2f}) |",
            flush=True,
        )


if __name__ == "__main__":
    np.seterr(over="ignore")
    main()

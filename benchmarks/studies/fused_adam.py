"""Study: torch's fused CPU Adam (``optimizer__fused=True``) against the default Adam, interleaved.

Usage: python -W ignore benchmarks/studies/fused_adam.py [--rows digits:5 two_sines:12 ...]
       [--seeds 0 1 2]

For each row and seed, ``RRAETransformer(n_components=k, random_state=seed)`` with
defaults and the same with ``optimizer__fused=True`` (torch 2.4 and later on the
CPU), fitted in turn in this process (the order alternating from seed to seed,
after one warm-up fit). Prints the median fit time of each, the median (and
per-seed) ratio fused / default, and each one's held-out MSE / PCA(k)'s per seed:
the fused kernel does the same update in another order of float operations, so
the results differ in the last digits.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

from sklearn.decomposition import PCA

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import machine, mse  # noqa: E402
from interleaved_fit_times import LOADERS  # noqa: E402

from sklearn_rrae import RRAETransformer  # noqa: E402

VARIANTS = {"default": {}, "fused": {"optimizer__fused": True}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", default=["digits:5", "two_sines:12", "blob:2", "olivetti:5"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    print(f"machine: {machine()}\nseeds: {args.seeds}\n")
    print(
        "| data | k | fit (s), default / fused | fused / default: median (per seed) "
        "| held-out MSE / PCA's, default | fused |"
    )
    print("|---|---|---|---|---|---|")
    warm = True
    for row in args.rows:
        name, k = row.split(":")
        k = int(k)
        X_train, X_test = LOADERS[name]()
        pca = PCA(k).fit(X_train)
        reference = mse(X_test, pca.inverse_transform(pca.transform(X_test)))
        if warm:  # the first fit of a process pays for imports
            RRAETransformer(n_components=k, max_epochs=2, random_state=0).fit(X_train)
            warm = False
        seconds = {v: [] for v in VARIANTS}
        ratios = {v: [] for v in VARIANTS}
        for i, seed in enumerate(args.seeds):
            order = list(VARIANTS) if i % 2 == 0 else list(VARIANTS)[::-1]
            for variant in order:
                start = time.perf_counter()
                model = RRAETransformer(n_components=k, random_state=seed, **VARIANTS[variant]).fit(X_train)
                seconds[variant].append(time.perf_counter() - start)
                X_hat = model.inverse_transform(model.transform(X_test))
                ratios[variant].append(mse(X_test, X_hat) / reference)
        per_seed = [f / d for f, d in zip(seconds["fused"], seconds["default"], strict=True)]
        cells = [
            f"{statistics.median(seconds['default']):.1f} / {statistics.median(seconds['fused']):.1f}",
            f"{statistics.median(per_seed):.3f} ({' / '.join(f'{r:.3f}' for r in per_seed)})",
            " / ".join(f"{r:.3f}" for r in ratios["default"]),
            " / ".join(f"{r:.3f}" for r in ratios["fused"]),
        ]
        print(f"| {name} | {k} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()

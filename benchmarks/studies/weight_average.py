"""Study: the early stopping on an average of the weights, against the weights of each epoch.

Usage: python benchmarks/studies/weight_average.py [--seeds 0 1 2] [--only NAME ...]

Rows of ``benchmarks/pca_panel.py`` that train with validation rows (data of at
most 10,000 rows). For each seed, two fits interleaved: the defaults (the
validation, the early stopping and the fitted model see an exponential average
of the weights over the steps, ``sklearn_rrae._weight_average``) and the same
with the average switched off (the weights of each epoch, as before it). Held-out
MSE over PCA's, fit time, epochs trained; medians of the seeds, and the ratio of
the fit times per seed.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import machine  # noqa: E402
from pca_panel import PANEL, WINS, reconstruction_mse  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

from sklearn_rrae import RRAETransformer  # noqa: E402
from sklearn_rrae._weight_average import WeightAverage  # noqa: E402

ROWS = [("digits 70/30", 5), ("Olivetti faces", 5), ("swiss roll 2000, 70/30", 2), ("MNIST-1000", 10)]


def fit(X_train, k, seed, average):
    patches = (
        []
        if average
        else [
            mock.patch.object(WeightAverage, hook, lambda *a, **kw: None)
            for hook in (
                "on_batch_begin",
                "on_batch_end",
                "on_epoch_begin",
            )
        ]
    )
    for patch in patches:
        patch.start()
    try:
        start = time.perf_counter()
        model = RRAETransformer(n_components=k, random_state=seed).fit(X_train)
        return model, time.perf_counter() - start
    finally:
        for patch in patches:
            patch.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="*", help="row names (prefixes)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"machine: {machine()}\n", flush=True)
    loaders = {name: load for name, load, _, _ in PANEL + WINS}
    # The first fit of a process imports torch's compiler stack (3.4 s in the optimizer's
    # constructor, cProfile): a warm-up fit keeps that out of the first timed fit.
    RRAETransformer(n_components=2, max_epochs=1, random_state=0).fit(
        np.random.default_rng(0).normal(size=(50, 4))
    )
    rows = [row for row in ROWS if not args.only or any(row[0].startswith(p) for p in args.only)]
    print(
        "| data | k | held-out / PCA, average | without | fit (s), average | without "
        "| time ratio per seed | epochs, average / without |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, k in rows:
        X_train, X_test = loaders[name]()
        reference = reconstruction_mse(PCA(k).fit(X_train), X_test)
        result = {True: [], False: []}
        for seed in args.seeds:
            for average in (True, False):
                model, seconds = fit(X_train, k, seed, average)
                result[average].append(
                    (reconstruction_mse(model, X_test) / reference, seconds, model.n_iter_)
                )
        on, off = (np.array(result[a]) for a in (True, False))
        print(
            f"| {name} | {k} | {np.median(on[:, 0]):.3f} ({on[:, 0].max():.3f}) | {np.median(off[:, 0]):.3f} "
            f"({off[:, 0].max():.3f}) | {np.median(on[:, 1]):.1f} | {np.median(off[:, 1]):.1f} | "
            f"{' / '.join(f'{a / b:.2f}' for a, b in zip(on[:, 1], off[:, 1], strict=True))} | "
            f"{np.median(on[:, 2]):.0f} / {np.median(off[:, 2]):.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

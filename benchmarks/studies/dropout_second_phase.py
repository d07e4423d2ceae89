"""Study: a second training phase with decoder dropout, after the default fit, through warm_start.

Usage: python benchmarks/studies/dropout_second_phase.py [--rows olivetti:5 blob:2 ...] [--seeds 0]
       [--dropout 0.3]

Phase 1 is ``RRAETransformer(n_components=k, random_state=seed)`` with the defaults.
Phase 2 continues from it with ``set_params(warm_start=True, decoder_dropout=p)`` and
``fit`` again: the same validation rows, the weights and optimizer state of phase 1,
dropout in the decoder. The question is whether a validated continuation keeps what
dropout gives the faces (0.784 x PCA from the start of training) while it leaves the
noise-free simulated signals alone (dropout from the start costs them). Prints, per row
and seed, the held-out error after each phase (panel rows: MSE / PCA(k)'s; the paper's
synthetic problems: relative error in %), the best validation score and epochs of each
phase, and the total fit time.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

from sklearn.decomposition import PCA

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import digits, machine, reconstruction_error  # noqa: E402
from paper import SYNTHETIC  # noqa: E402
from pca_panel import breast_cancer, iris, olivetti, reconstruction_mse, swiss_roll  # noqa: E402

from sklearn_rrae import LinearStartKeptWarning, RRAETransformer  # noqa: E402

PANEL = {"olivetti": olivetti, "digits": digits, "breast": breast_cancer, "iris": iris, "swiss": swiss_roll}
PAPER = {"bumps": "two Gaussian bumps", "sines": "two sines", "blob": "2-D Gaussian blob"}


def _data(name, k):
    """(X_train, error of a fitted model on the held-out rows, settings)."""
    if name in PANEL:
        X_train, X_test = PANEL[name]()
        reference = reconstruction_mse(PCA(k).fit(X_train), X_test)
        return X_train, lambda model: f"{reconstruction_mse(model, X_test) / reference:.3f}", {}
    (problem,) = [row for row in SYNTHETIC if row[0] == PAPER[name]]
    X_train, X_test, _, _ = problem[1]()

    return X_train, lambda model: f"{100 * reconstruction_error(model, X_test):.2f} %", problem[3]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", default=["olivetti:5", "blob:2", "sines:2"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--dropout", type=float, default=0.3)
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    print("| data | k | seed | phase 1 | phase 2 | valid. score 1 / 2 | epochs 1 / total | fit (s) |")
    print("|---|---|---|---|---|---|---|---|")
    for row in args.rows:
        name, k = row.split(":")
        k = int(k)
        X_train, error, settings = _data(name, k)
        for seed in args.seeds:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", LinearStartKeptWarning)
                start = time.perf_counter()
                model = RRAETransformer(n_components=k, random_state=seed, **settings).fit(X_train)
                first, first_score, first_epochs = error(model), model.best_validation_score_, model.n_iter_
                model.set_params(warm_start=True, decoder_dropout=args.dropout).fit(X_train)
                seconds = time.perf_counter() - start
            print(
                f"| {name} | {k} | {seed} | {first} | {error(model)} "
                f"| {first_score:.4g} / {model.best_validation_score_:.4g} "
                f"| {first_epochs} / {model.n_iter_} | {seconds:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

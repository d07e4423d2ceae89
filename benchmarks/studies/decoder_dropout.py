"""Study: dropout in the decoder's hidden layers, on the panel's small data and on wide data.

Usage: python benchmarks/studies/decoder_dropout.py [--values 0 0.2 0.3 0.5] [--seeds 0 1 2]
       [--only NAME ...]

``RRAETransformer(n_components=k, decoder_dropout=p, random_state=seed)``, defaults
otherwise, on the rows of ``benchmarks/pca_panel.py`` that stop early on validation
rows, plus two wide sets (the first 500 training images of MNIST and Fashion-MNIST:
450 training rows of 784 pixels after the validation split). Each cell: held-out
MSE / PCA(k)'s, median (worst), the median fit time and the epochs trained per seed.
Rows with more features than training rows are marked "wide".
"""

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

from sklearn.decomposition import PCA

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import digits, machine, mnist  # noqa: E402
from pca_panel import (  # noqa: E402
    breast_cancer,
    diabetes,
    iris,
    mnist_1000,
    olivetti,
    reconstruction_mse,
    swiss_roll,
    wine,
)

from sklearn_rrae import LinearStartKeptWarning, RRAETransformer  # noqa: E402

ROWS = [
    ("Olivetti faces (wide)", olivetti, (5, 20)),
    ("MNIST-500 (wide)", lambda: mnist(500), (5, 10)),
    ("Fashion-MNIST-500 (wide)", lambda: mnist(500, name="fashion_mnist"), (5, 10)),
    ("digits 70/30", digits, (2, 5)),
    ("breast cancer 70/30, raw", breast_cancer, (2, 5)),
    ("wine 70/30, raw", wine, (2, 5)),
    ("diabetes 70/30, raw", diabetes, (2, 5)),
    ("iris 70/30", iris, (1, 2)),
    ("swiss roll 2000, 70/30", swiss_roll, (2,)),
    ("MNIST-1000", mnist_1000, (5, 10)),
]


def _cell(X_train, X_test, k, value, seeds):
    """Held-out MSE / PCA(k)'s, median (worst); median fit time; epochs per seed."""
    reference = reconstruction_mse(PCA(k).fit(X_train), X_test)
    ratios, times, epochs = [], [], []
    for seed in seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LinearStartKeptWarning)
            start = time.perf_counter()
            model = RRAETransformer(n_components=k, decoder_dropout=value, random_state=seed).fit(X_train)
            times.append(time.perf_counter() - start)
        ratios.append(reconstruction_mse(model, X_test) / reference)
        epochs.append(model.n_iter_)
    return (
        f"{statistics.median(ratios):.3f} ({max(ratios):.3f}); "
        f"{statistics.median(times):.1f} s; {'/'.join(map(str, epochs))} ep"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=float, nargs="+", default=[0.0, 0.2, 0.3, 0.5])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="*", help="data set names (prefixes) to run")
    args = parser.parse_args()
    rows = [r for r in ROWS if not args.only or any(r[0].startswith(p) for p in args.only)]
    print(f"machine: {machine()}\nseeds: {args.seeds}\n")
    print("| data | k | " + " | ".join(f"decoder_dropout={v}" for v in args.values) + " |")
    print("|---" * (len(args.values) + 2) + "|")
    for name, load, ranks in rows:
        X_train, X_test = load()
        for k in ranks:
            cells = [_cell(X_train, X_test, k, value, args.seeds) for value in args.values]
            print(f"| {name} | {k} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()

"""``n_components`` as a fraction of the variance: the rank RRAE keeps against PCA's.

Usage: python benchmarks/variance_fraction.py [--fractions 0.5 0.8 0.9 0.95] [--seed 0]

For each fraction f, ``PCA(f)`` and ``RRAETransformer(n_components=f,
random_state=seed)`` with every other setting at its default, on the digits (70/30)
and MNIST-1000 (the first 1,000 training images, the 10,000 test images). Prints the
rank each keeps, the rank RRAE trained at (PCA's for f, capped at ``latent_dim`` and
``batch_size - 1``), the fraction of the variance each explains on the training data
(``explained_variance_ratio_.sum()``) and on the held-out data (``1 - MSE / variance``
of the test set), and RRAE's fit time.
"""

import argparse
import time

import numpy as np
from _common import digits, machine, mnist, mse
from sklearn.decomposition import PCA

from sklearn_rrae import RRAETransformer


def held_out_fraction(model, X):
    total = float(np.mean((X - X.mean(0)) ** 2))
    return 1 - mse(X, model.inverse_transform(model.transform(X))) / total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.5, 0.8, 0.9, 0.95])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"machine: {machine()}\n", flush=True)
    print(
        "| data | fraction | PCA rank | RRAE rank kept | RRAE trained at | training: PCA / RRAE | "
        "held-out: PCA / RRAE | RRAE fit (s) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, (X_train, X_test) in (("digits 70/30", digits()), ("MNIST-1000", mnist(1000))):
        for f in args.fractions:
            pca = PCA(f).fit(X_train)
            start = time.perf_counter()
            rrae = RRAETransformer(n_components=f, random_state=args.seed).fit(X_train)
            seconds = time.perf_counter() - start
            print(
                f"| {name} | {f} | {pca.n_components_} | {rrae.n_components_} | "
                f"{rrae.net_.module_.n_components} | {pca.explained_variance_ratio_.sum():.3f} / "
                f"{rrae.explained_variance_ratio_.sum():.3f} | {held_out_fraction(pca, X_test):.3f} / "
                f"{held_out_fraction(rrae, X_test):.3f} | {seconds:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

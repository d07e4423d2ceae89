"""How the default activation was chosen: held-out error over seeds, per activation.

Usage: python benchmarks/studies/activations.py [--seeds 3] [--activations silu relu ...] [--mnist]

Default settings otherwise. For each activation and problem: median and worst
held-out MSE ratio to PCA (digits, MNIST-20k) or relative error (shifted sine).
"""

import argparse
import sys
from pathlib import Path

# Run as `python benchmarks/studies/activations.py`: put benchmarks/ on the path for _common.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from _common import digits, mnist, mse, relative_error, shifted_sine
from sklearn.decomposition import PCA

from sklearn_rrae import RRAETransformer


def score(load, k, activation, seed, relative):
    X_train, X_test = load()
    model = RRAETransformer(n_components=k, activation=activation, random_state=seed).fit(X_train)
    X_hat = model.inverse_transform(model.transform(X_test))
    if relative:
        return relative_error(X_test, X_hat)
    pca = PCA(n_components=k).fit(X_train)
    return mse(X_test, X_hat) / mse(X_test, pca.inverse_transform(pca.transform(X_test)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--activations", nargs="+", default=["silu", "gelu", "softplus", "relu", "tanh"])
    parser.add_argument("--mnist", action="store_true", help="also MNIST-20k (30 s per fit)")
    args = parser.parse_args()
    problems = [
        ("digits, MSE / PCA's", digits, 5, False),
        ("shifted sine, rel. error", shifted_sine, 1, True),
    ]
    if args.mnist:
        problems.insert(1, ("MNIST-20k, MSE / PCA's", mnist, 10, False))
    print("| activation | " + " | ".join(f"{p[0]}: median (worst)" for p in problems) + " |")
    print("|---" * (len(problems) + 1) + "|")
    for activation in args.activations:
        cells = []
        for _, load, k, relative in problems:
            values = [score(load, k, activation, seed, relative) for seed in range(args.seeds)]
            fmt = "{:.2%}" if relative else "{:.3f}"
            cells.append(f"{fmt.format(np.median(values))} ({fmt.format(max(values))})")
        print(f"| {activation} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()

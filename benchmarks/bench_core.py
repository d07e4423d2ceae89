"""Quality and fit time of RRAETransformer with default settings against PCA.

Usage: python benchmarks/bench_core.py [--skip-mnist]

Default hyperparameters except ``n_components``, random_state=0. Prints one row
per problem: held-out reconstruction error of PCA and RRAE, their ratio, the fit
time, and whether the targets of the core issue are met.
"""

import argparse
import time

from _common import digits, machine, mnist, mse, relative_error, shifted_sine
from sklearn.decomposition import PCA

from sklearn_rrae import RRAETransformer

# (name, loader, k, metric, target on the metric, fit-time limit in s)
PROBLEMS = [
    ("digits 70/30", digits, 5, "MSE ratio to PCA", 0.6, 60),
    ("MNIST-20k", mnist, 10, "MSE ratio to PCA", 0.7, 120),
    ("shifted sine", shifted_sine, 1, "relative error", 0.05, 60),
]


def held_out(model, X_test):
    return model.inverse_transform(model.transform(X_test))


def run(name, load, k, metric):
    X_train, X_test = load()
    pca = PCA(n_components=k).fit(X_train)
    start = time.perf_counter()
    rrae = RRAETransformer(n_components=k, random_state=0).fit(X_train)
    fit_s = time.perf_counter() - start
    if metric == "relative error":
        pca_value = relative_error(X_test, held_out(pca, X_test))
        value = relative_error(X_test, held_out(rrae, X_test))
    else:
        pca_value = mse(X_test, held_out(pca, X_test))
        value = mse(X_test, held_out(rrae, X_test)) / pca_value
    return pca_value, value, fit_s, rrae.n_iter_


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-mnist", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    header = "| problem | k | metric | PCA | RRAE | target | fit (s) | limit (s) | epochs | met |"
    print(header)
    print("|---" * 10 + "|")
    for name, load, k, metric, target, limit in PROBLEMS:
        if args.skip_mnist and "MNIST" in name:
            continue
        pca_value, value, fit_s, epochs = run(name, load, k, metric)
        pca_shown = f"{pca_value:.4f} (MSE)" if "ratio" in metric else f"{pca_value:.2%}"
        value_shown = f"{value:.3f}" if "ratio" in metric else f"{value:.2%}"
        target_shown = f"<= {target}" if "ratio" in metric else f"<= {target:.0%}"
        met = "yes" if value <= target and fit_s <= limit else "NO"
        print(
            f"| {name} | {k} | {metric} | {pca_shown} | {value_shown} | {target_shown} | "
            f"{fit_s:.1f} | {limit} | {epochs} | {met} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

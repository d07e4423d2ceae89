"""Nested-rank training: what ``nested=True`` costs at the top rank and gives below it.

Usage: python benchmarks/nested.py [--seeds 0 1 2] [--skip-mnist] [--no-per-rank]

For each data set, ``RRAETransformer(n_components=K, random_state=seed)`` with
defaults is fitted with ``nested=False`` and ``nested=True``, interleaved (the
order alternates from seed to seed). The first table is the decision rule of
the default: held-out MSE at the top rank and fit time, nested over plain
(median and worst over the seeds; the bar is at most 1.02 and 1.10 on every
data set). The second table compares each prefix of the nested model (the
first r codes, decoded with ``inverse_transform``) with a plain model trained
at rank r alone, same seed (``--no-per-rank`` skips those fits), and with
PCA(r), at the ranks issue 18 names: K = 16 on the digits (r = 1, 2, 3, 5, 8,
12, 16) and K = 32 on MNIST-20k (r = 2, 5, 10, 20, 32). Its bars: every prefix
at most 1.05 x the model trained at r alone, and the nested fit at most 1.5 x
the plain fit's time at K.
"""

import argparse
import time

import numpy as np
from _common import digits, machine, mnist, mse
from sklearn.decomposition import PCA

from sklearn_rrae import RRAETransformer

DATASETS = [
    # name, loader, K, the ranks below K at which a plain model is trained alone
    ("digits 70/30", digits, 16, [1, 2, 3, 5, 8, 12]),
    ("MNIST-20k", mnist, 32, [2, 5, 10, 20]),
]
# The default's bars (top rank) and the nested fit's own (every prefix, fit time).
MSE_BAR, TIME_BAR = 1.02, 1.10
PREFIX_BAR, NESTED_TIME_BAR = 1.05, 1.5


def prefix_mse(model, X_test):
    codes = model.transform(X_test)
    return [mse(X_test, model.inverse_transform(codes[:, :r])) for r in range(1, codes.shape[1] + 1)]


def timed_fit(model, X):
    start = time.perf_counter()
    model.fit(X)
    return model, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--skip-mnist", action="store_true")
    parser.add_argument("--no-per-rank", action="store_true")
    args = parser.parse_args()
    print(f"Machine: {machine()}\n")
    decision, per_rank, nested_time = [], [], []
    for name, load, K, alone_ranks in DATASETS:
        if args.skip_mnist and "MNIST" in name:
            continue
        X_train, X_test = load()
        fits = {False: [], True: []}
        for i, seed in enumerate(args.seeds):
            for nested in (False, True) if i % 2 == 0 else (True, False):
                model, seconds = timed_fit(
                    RRAETransformer(n_components=K, nested=nested, random_state=seed), X_train
                )
                fits[nested].append((prefix_mse(model, X_test), seconds, model.n_iter_))
                print(
                    f"  {name} seed {seed} nested={nested}: {seconds:.1f} s, {model.n_iter_} epochs, "
                    f"MSE by rank {np.round(fits[nested][-1][0], 4).tolist()}",
                    flush=True,
                )
        alone = {r: [] for r in ([] if args.no_per_rank else alone_ranks)}
        for r in alone:
            for seed in args.seeds:
                model, _ = timed_fit(RRAETransformer(n_components=r, random_state=seed), X_train)
                alone[r].append(mse(X_test, model.inverse_transform(model.transform(X_test))))
        mse_ratio = np.array([n[0][-1] / p[0][-1] for n, p in zip(fits[True], fits[False], strict=True)])
        time_ratio = np.array([n[1] / p[1] for n, p in zip(fits[True], fits[False], strict=True)])
        met = np.median(mse_ratio) <= MSE_BAR and np.median(time_ratio) <= TIME_BAR
        decision.append(
            f"| {name} | {K} | {np.median(mse_ratio):.3f} ({mse_ratio.max():.3f}) | "
            f"{np.median(time_ratio):.3f} ({time_ratio.max():.3f}) | "
            f"{np.median([f[1] for f in fits[False]]):.1f} / {np.median([f[1] for f in fits[True]]):.1f} | "
            f"{np.median([f[2] for f in fits[False]]):.0f} / {np.median([f[2] for f in fits[True]]):.0f} | "
            f"{'yes' if met else 'no'} |"
        )
        # The plain fit at K is the model trained at K alone; --no-per-rank: every rank, no ratio.
        alone[K] = [f[0][-1] for f in fits[False]]
        for r in range(1, K + 1) if args.no_per_rank else sorted(alone):
            nested_r = [f[0][r - 1] for f in fits[True]]
            plain_prefix = np.median([f[0][r - 1] for f in fits[False]])
            pca = PCA(r, random_state=0).fit(X_train)
            pca_r = mse(X_test, pca.inverse_transform(pca.transform(X_test)))
            ratio = "| |"  # three empty cells: trained at r, ratio, met
            if r in alone and alone[r]:
                per_seed = np.array(nested_r) / np.array(alone[r])  # same seed
                ratio = (
                    f"{np.median(alone[r]):.4g} | {np.median(per_seed):.3f} ({per_seed.max():.3f}) | "
                    f"{'yes' if per_seed.max() <= PREFIX_BAR else 'no'}"
                )
            per_rank.append(
                f"| {name} | {r} | {np.median(nested_r):.4g} | {ratio} | {plain_prefix:.4g} | {pca_r:.4g} |"
            )
        nested_time.append(
            f"| {name} | {K} | {np.median(time_ratio):.3f} ({time_ratio.max():.3f}) | "
            f"{'yes' if time_ratio.max() <= NESTED_TIME_BAR else 'no'} |"
        )
    print(
        "\nTop rank, nested=True over nested=False (median (worst) of seeds "
        f"{args.seeds}; bars: MSE <= {MSE_BAR}, time <= {TIME_BAR}, on the medians)\n"
    )
    print(
        "| data | K | held-out MSE ratio | fit time ratio | fit (s), plain / nested "
        "| epochs, plain / nested | met |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(decision))
    print(
        "\nEvery rank r: held-out MSE of the nested model's first r codes, of a plain model "
        "trained at rank r alone, their ratio seed by seed (median (worst); bar: at most "
        f"{PREFIX_BAR} on every seed), of the plain K model's first r codes, of PCA(r); MSEs "
        "are medians of the seeds\n"
    )
    print(
        "| data | r | nested, first r codes | plain, trained at r | nested / trained at r "
        "| met | plain K, first r codes | PCA(r) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(per_rank))
    print(f"\nNested fit time over the plain fit at K (median (worst); bar: at most {NESTED_TIME_BAR})\n")
    print("| data | K | fit time ratio | met |")
    print("|---|---|---|---|")
    print("\n".join(nested_time))


if __name__ == "__main__":
    main()

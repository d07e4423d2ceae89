"""Cross-validating the rank: rank_curve (a nested fit per fold) against GridSearchCV (a fit per rank, fold).

Usage: python benchmarks/rank_curve.py [--repeats 3] [--threads 2]

The digits (all 1,797 images), 3 folds (stratified, the same for both), a pipeline
``RRAETransformer -> LogisticRegression(max_iter=1000)``, defaults otherwise,
``random_state=0``:

- ``rank_curve(make_pipeline(RRAETransformer(n_components=16, nested=True),
  LogisticRegression(...)), X, y, cv=3)``: 3 RRAE fits, the classifier at every
  rank 1..16;
- ``GridSearchCV`` over ``n_components`` in {2, 4, 8, 16} with ``nested=False``,
  ``cv=3``, ``refit=False`` (rank_curve refits nothing either): 12 RRAE fits.

The two are timed alternately ``--repeats`` times (wall clock, medians), and the
mean test accuracies compared at ranks 2, 4, 8 and 16. Targets (issue 18): the
time ratio at most 0.4, the accuracies within 0.03 at those ranks.
"""

import argparse
import statistics
import time
import warnings

import torch
from _common import machine
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline

from sklearn_rrae import RRAETransformer
from sklearn_rrae.model_selection import rank_curve

GRID = [2, 4, 8, 16]


def classifier():
    return LogisticRegression(max_iter=1000)


def with_rank_curve(X, y, cv):
    pipe = make_pipeline(RRAETransformer(n_components=16, nested=True, random_state=0), classifier())
    start = time.perf_counter()
    curve = rank_curve(pipe, X, y, cv=cv)
    seconds = time.perf_counter() - start
    return seconds, dict(zip(curve["ranks"].tolist(), curve["mean_test_score"].tolist(), strict=True))


def with_grid_search(X, y, cv):
    pipe = make_pipeline(RRAETransformer(random_state=0), classifier())
    search = GridSearchCV(pipe, {"rraetransformer__n_components": GRID}, cv=cv, refit=False)
    start = time.perf_counter()
    search.fit(X, y)
    seconds = time.perf_counter() - start
    ranks = search.cv_results_["param_rraetransformer__n_components"].tolist()
    return seconds, dict(zip(ranks, search.cv_results_["mean_test_score"].tolist(), strict=True))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")  # LinearStartKeptWarning and lbfgs notes: not what is measured
    X, y = load_digits(return_X_y=True)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    print(f"machine: {machine()}, torch threads: {args.threads}\n", flush=True)
    curve_times, grid_times, ratios = [], [], []
    for repeat in range(args.repeats):
        curve_seconds, curve_scores = with_rank_curve(X, y, cv)
        grid_seconds, grid_scores = with_grid_search(X, y, cv)
        curve_times.append(curve_seconds)
        grid_times.append(grid_seconds)
        ratios.append(curve_seconds / grid_seconds)
        print(
            f"repeat {repeat}: rank_curve {curve_seconds:.1f} s, GridSearchCV {grid_seconds:.1f} s",
            flush=True,
        )
    print("\n| | rank_curve (nested, K = 16) | GridSearchCV (4 ranks) | ratio | target |")
    print("|---|---|---|---|---|")
    print(
        f"| time (s), median of {args.repeats} | {statistics.median(curve_times):.1f} | "
        f"{statistics.median(grid_times):.1f} | {statistics.median(ratios):.3f} | <= 0.4 |"
    )
    for r in GRID:
        difference = curve_scores[r] - grid_scores[r]
        print(
            f"| accuracy at rank {r} | {curve_scores[r]:.4f} | {grid_scores[r]:.4f} | "
            f"{difference:+.4f} | within 0.03 |"
        )
    worst = max(abs(curve_scores[r] - grid_scores[r]) for r in GRID)
    met = statistics.median(ratios) <= 0.4 and worst <= 0.03
    print(f"\nall targets met: {'yes' if met else 'no'} (largest accuracy difference {worst:.4f})")
    print(
        "accuracy of the nested model at every rank: "
        + ", ".join(f"{r}: {s:.3f}" for r, s in curve_scores.items())
    )


if __name__ == "__main__":
    main()

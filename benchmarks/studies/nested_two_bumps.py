"""Study: does nested training remove the fold of single-start fits on two Gaussian bumps?

Usage: python benchmarks/studies/nested_two_bumps.py [--seeds 0 1 2 3 4]

Issue 18 asks it. ``RRAETransformer(n_components=2, random_state=seed)`` with the
defaults (one start, ``n_init=1``), ``nested=False`` and ``nested=True`` fitted in
turn for each seed, on ``make_two_gaussians(random_state=0)`` with
``benchmarks/paper.py``'s protocols: relative error in % of the test signals'
reconstruction and of the decoded interpolated codes (the fold shows in the
latter), per seed, then median (worst), and the fit time. ``paper.py`` itself fits
this problem with ``n_init=10``, the restarts that remove the fold.
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import machine  # noqa: E402
from paper import evaluate  # noqa: E402

from sklearn_rrae import RRAETransformer  # noqa: E402
from sklearn_rrae.datasets import make_two_gaussians  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    args = parser.parse_args()
    print(f"machine: {machine()}\nseeds: {args.seeds}\n")
    X_train, X_test, p_train, p_test = make_two_gaussians(random_state=0)
    runs = {False: [], True: []}
    for seed in args.seeds:
        for nested in (False, True) if seed % 2 == 0 else (True, False):
            model = RRAETransformer(n_components=2, nested=nested, random_state=seed)
            runs[nested].append(evaluate(model, X_train, X_test, p_train, p_test))
            rec, interp, sec = runs[nested][-1]
            print(
                f"seed {seed} nested={nested}: reconstruction {rec:.2f} %, "
                f"interpolation {interp:.2f} %, {sec:.1f} s"
            )
    print("\n| nested | reconstruction | interpolation | interpolation by seed | fit (s), median |")
    print("|---|---|---|---|---|")
    for nested, rows in runs.items():
        rec, interp, sec = (list(column) for column in zip(*rows, strict=True))
        print(
            f"| {nested} | {statistics.median(rec):.2f} ({max(rec):.2f}) | "
            f"{statistics.median(interp):.2f} ({max(interp):.2f}) | "
            f"{' / '.join(f'{i:.2f}' for i in interp)} | {statistics.median(sec):.1f} |"
        )


if __name__ == "__main__":
    main()

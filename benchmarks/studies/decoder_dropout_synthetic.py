"""Study: decoder dropout on the paper's synthetic problems with more features than rows.

Usage: python benchmarks/studies/decoder_dropout_synthetic.py [--values 0.3 0 auto none] [--seeds 0 1 2 3 4]
       [--problems NAME ...]

Two Gaussian bumps (90 training signals of 1,200 points after the validation split),
two sines (202 of 1,571) and the 2-D blob (360 of 4,096) are wide and validated, like
Olivetti's faces, where ``decoder_dropout=0.3`` helps; but they are noise-free. RRAE
only, with the settings of
``benchmarks/paper.py`` (two bumps: ``n_init=10``) and its protocols: relative
error in % of the test signals' reconstruction and of the decoded interpolated
codes, median (worst) over the seeds, and the median fit time.

A value is a ``decoder_dropout``: a rate, or ``auto`` (the default: none in
training, 0.3 in the validated second stage); ``none`` is no second stage and no
dropout (``decoder_epochs=0``), the defaults before that stage on these problems.
The values are fitted in turn for each seed, so that their times are comparable.
"""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import machine  # noqa: E402
from paper import SYNTHETIC, evaluate  # noqa: E402

from sklearn_rrae import RRAETransformer  # noqa: E402

DEFAULT_PROBLEMS = ["two Gaussian bumps", "two sines", "2-D Gaussian blob"]


def _value(text):
    return text if text in ("auto", "none") else float(text)


def _params(value):
    return {"decoder_epochs": 0, "decoder_dropout": 0.0} if value == "none" else {"decoder_dropout": value}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=_value, nargs="+", default=[0.3, 0.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--problems", nargs="+", default=DEFAULT_PROBLEMS)
    args = parser.parse_args()
    print(f"machine: {machine()}\nseeds: {args.seeds}\n")
    print("| problem | k | decoder_dropout | reconstruction | interpolation | fit (s), median |")
    print("|---|---|---|---|---|---|")
    for name, generate, ranks, settings in SYNTHETIC:
        if name not in args.problems:
            continue
        X_train, X_test, p_train, p_test = generate()
        for k in ranks:
            runs = {value: [] for value in args.values}
            for seed in args.seeds:
                for value in args.values:
                    model = RRAETransformer(n_components=k, random_state=seed, **_params(value), **settings)
                    runs[value].append(evaluate(model, X_train, X_test, p_train, p_test))
            for value, value_runs in runs.items():
                rec, interp, sec = (list(column) for column in zip(*value_runs, strict=True))
                print(
                    f"| {name} | {k} | {value} | {statistics.median(rec):.2f} ({max(rec):.2f}) | "
                    f"{statistics.median(interp):.2f} ({max(interp):.2f}) | {statistics.median(sec):.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()

"""Which test on the validation rows should decide between the trained model and its PCA start (issue 17)?

Usage: python benchmarks/studies/start_test_rules.py [--seeds 0,1,2]

The defaults keep the best validation epoch only if its per-row validation
errors beat the PCA start's by more than 2 standard errors of the paired
difference (``_callbacks.beats``); else the fit ends at the start. Here the
trained epoch is always kept (``beats`` patched to record its arguments and say
yes), so each fit gives both sides: the held-out MSE / PCA's of the trained
model, and the validation rows' errors the test saw. Then several rules are
applied offline (a rule that says no gives the start, ratio 1.000): the paired
t statistic (> 2, > 2.5, > 3), the t statistic of the log errors, Wilcoxon's
signed-rank test and the sign test. Small data of ``pca_panel.py`` only (where
the test decides something): diabetes, breast cancer, iris, Olivetti.
"""

import argparse
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pca_panel  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

import sklearn_rrae._callbacks as callbacks  # noqa: E402
from sklearn_rrae import RRAETransformer  # noqa: E402

DATA = [
    ("diabetes", pca_panel.diabetes, (2, 5)),
    ("breast cancer", pca_panel.breast_cancer, (2, 5)),
    ("iris", pca_panel.iris, (1, 2)),
    ("Olivetti", pca_panel.olivetti, (5, 20)),
]


def t_statistic(d):
    return d.mean() / (d.std(ddof=1) / np.sqrt(len(d)))


RULES = {
    "t > 2 (defaults)": lambda e, r: t_statistic(r - e) > 2,
    "t > 2.5": lambda e, r: t_statistic(r - e) > 2.5,
    "t > 3": lambda e, r: t_statistic(r - e) > 3,
    "t of log errors > 2": lambda e, r: t_statistic(np.log(r) - np.log(e)) > 2,
    "Wilcoxon p < 0.025": lambda e, r: stats.wilcoxon(r - e, alternative="greater").pvalue < 0.025,
    "sign test p < 0.05": lambda e, r: (
        stats.binomtest(int((r > e).sum()), len(e), alternative="greater").pvalue < 0.05
    ),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    seeds = [int(s) for s in parser.parse_args().seeds.split(",")]
    seen = []

    def record(errors, reference, margin=None):
        seen.append((np.asarray(errors), np.asarray(reference)))
        return True

    callbacks.beats = record
    warnings.simplefilter("ignore")
    fits = []
    print("| data | k | seed | trained / PCA, held-out | t | t of logs | Wilcoxon p | rows improved |")
    print("|---|---|---|---|---|---|---|---|")
    for name, load, ranks in DATA:
        X_train, X_test = load()
        for k in ranks:
            pca_mse = pca_panel.reconstruction_mse(PCA(k).fit(X_train), X_test)
            for seed in seeds:
                seen.clear()
                model = RRAETransformer(n_components=k, random_state=seed).fit(X_train)
                ratio = pca_panel.reconstruction_mse(model, X_test) / pca_mse
                if not seen:  # no epoch beat the start's mean: the start is kept whatever the rule
                    fits.append((name, k, 1.0, None))
                    print(f"| {name} | {k} | {seed} | start best | | | | |")
                    continue
                errors, reference = seen[0]
                fits.append((name, k, ratio, (errors, reference)))
                d = reference - errors
                print(
                    f"| {name} | {k} | {seed} | {ratio:.4f} | {t_statistic(d):.2f} | "
                    f"{t_statistic(np.log(reference) - np.log(errors)):.2f} | "
                    f"{stats.wilcoxon(d, alternative='greater').pvalue:.3f} | {(d > 0).mean():.2f} |",
                    flush=True,
                )
    rows = list(dict.fromkeys((name, k) for name, k, _, _ in fits))
    print()
    print("| rule | " + " | ".join(f"{name} k={k}" for name, k in rows) + " |")
    print("|---" * (len(rows) + 1) + "|")
    for rule_name, rule in RULES.items():
        cells = []
        for row in rows:
            ratios = [
                r if seen_ is not None and rule(*seen_) else 1.0 for n, k, r, seen_ in fits if (n, k) == row
            ]
            cells.append(f"{np.median(ratios):.3f} ({max(ratios):.3f})")
        print(f"| {rule_name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

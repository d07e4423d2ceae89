"""Study: the PCA start and random weights on large tabular data of mixed scales.

Usage: python benchmarks/studies/large_tabular.py [--rows 20000] [--inits auto random] [--seeds 0 1]

No large tabular set is stored offline, so one is made from a small one: the rows
of ``load_breast_cancer`` and ``load_wine`` (raw) resampled with replacement to
``--rows`` and jittered by 0.1 of each feature's standard deviation, then split
70/30 (held-out rows are jitters of the same source rows: this measures how well
training fits, not how it generalises; ``benchmarks/pca_panel.py`` has the rows
split before resampling). Held-out MSE of ``RRAETransformer(n_components=k,
init=..., random_state=seed)``, defaults otherwise, over PCA(k)'s.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from pca_panel import reconstruction_mse  # noqa: E402

from sklearn_rrae import RRAETransformer  # noqa: E402


def jittered(X, n_rows, seed):
    rng = np.random.RandomState(seed)
    rows = rng.randint(len(X), size=n_rows)
    return (X[rows] + 0.1 * X.std(axis=0) * rng.normal(size=(n_rows, X.shape[1]))).astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--inits", nargs="+", default=["auto", "random"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # LinearStartKeptWarning on the fits that keep their start
    for name, load in [("breast cancer", load_breast_cancer), ("wine", load_wine)]:
        X_train, X_test = train_test_split(jittered(load().data, args.rows, 0), test_size=0.3, random_state=0)
        for k in (2, 5):
            pca = PCA(k).fit(X_train)
            reference = reconstruction_mse(pca, X_test)
            for init in args.inits:
                for seed in args.seeds:
                    start = time.perf_counter()
                    model = RRAETransformer(n_components=k, init=init, random_state=seed).fit(X_train)
                    ratio = reconstruction_mse(model, X_test) / reference
                    print(
                        f"{name}, {args.rows} rows, k={k}, init={init}, seed {seed}: {ratio:.3f} x PCA, "
                        f"start kept: {model.start_kept_}, fit {time.perf_counter() - start:.1f} s",
                        flush=True,
                    )


if __name__ == "__main__":
    main()

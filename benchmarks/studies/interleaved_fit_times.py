"""Study: fit times (and held-out MSE / PCA's) of the defaults in several checkouts, interleaved.

Usage: python benchmarks/studies/interleaved_fit_times.py --trees DIR [DIR ...]
       [--rows olivetti:5 digits:5 ...] [--seeds 0 1 2]

Each ``DIR`` is a checkout of this repository (``git worktree add /tmp/old <commit>``).
Every fit runs in a fresh Python process whose ``sklearn_rrae`` is that checkout's,
on data this script loads once and hands over as ``.npy`` files, so that old
checkouts need none of today's benchmark helpers. The fits run round-robin (for each
row and seed, one fit per checkout, the checkouts' order rotated from seed to seed),
so that a slower or busier stretch of the machine falls on all of them alike.
Prints, per row and checkout: median fit time, its ratio to the first checkout's
(the median of the per-seed ratios, and each of them), and the held-out MSE / PCA(k)'s
of each seed.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import digits, machine, mnist, mse  # noqa: E402
from pca_panel import mnist_1000, olivetti, swiss_roll  # noqa: E402

from sklearn_rrae import datasets  # noqa: E402

LOADERS = {
    "olivetti": olivetti,
    "digits": digits,
    "swiss_roll": swiss_roll,
    "mnist_1000": mnist_1000,
    "mnist_500": lambda: mnist(500),
    # The paper's synthetic problems (training and test signals), with the defaults:
    # one start on two bumps, where paper.py fits ten.
    "two_sines": lambda: datasets.make_two_sines(random_state=0)[:2],
    "blob": lambda: datasets.make_gaussian_blob(random_state=0)[:2],
    "two_bumps": lambda: datasets.make_two_gaussians(random_state=0)[:2],
}

# The child: the checkout's package, the defaults, one fit; prints a JSON line.
CHILD = """
import json, sys, time, warnings
import numpy as np
import sklearn_rrae
from sklearn_rrae import RRAETransformer
warnings.simplefilter("ignore")
X_train, X_test = np.load(sys.argv[1]), np.load(sys.argv[2])
start = time.perf_counter()
model = RRAETransformer(n_components=int(sys.argv[3]), random_state=int(sys.argv[4])).fit(X_train)
seconds = time.perf_counter() - start
X_hat = model.inverse_transform(model.transform(X_test))
print(json.dumps({"seconds": seconds, "mse": float(np.mean((X_test - X_hat) ** 2)),
                  "package": sklearn_rrae.__file__}))
"""


def _fit(tree, train, test, k, seed):
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, train, test, str(k), str(seed)],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not result["package"].startswith(str(tree)):
        raise RuntimeError(f"{tree}: the child imported {result['package']}")
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trees", type=Path, nargs="+", required=True)
    parser.add_argument("--rows", nargs="+", default=["olivetti:5", "olivetti:20"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.trees]
    print(f"machine: {machine()}\nseeds: {args.seeds}")
    for i, tree in enumerate(trees):
        commit = subprocess.run(
            ["git", "-C", str(tree), "log", "-1", "--format=%h %s"], capture_output=True, text=True
        ).stdout.strip()
        print(f"tree {i}: {tree} ({commit[:70]})")
    print(
        "\n| data | k | tree | fit (s), median | time / tree 0's: median (per seed) "
        "| held-out MSE / PCA's per seed |"
    )
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for row in args.rows:
            name, k = row.split(":")
            k = int(k)
            X_train, X_test = LOADERS[name]()
            train, test = str(Path(folder) / "train.npy"), str(Path(folder) / "test.npy")
            np.save(train, X_train)
            np.save(test, X_test)
            pca = PCA(k).fit(X_train)
            reference = mse(X_test, pca.inverse_transform(pca.transform(X_test)))
            results = {tree: [] for tree in trees}
            for j, seed in enumerate(args.seeds):
                order = trees[j % len(trees) :] + trees[: j % len(trees)]
                for tree in order:
                    results[tree].append(_fit(tree, train, test, k, seed))
            first = [r["seconds"] for r in results[trees[0]]]
            for i, tree in enumerate(trees):
                seconds = [r["seconds"] for r in results[tree]]
                per_seed = [s / f for s, f in zip(seconds, first, strict=True)]
                times = f"{statistics.median(per_seed):.3f} ({' / '.join(f'{r:.3f}' for r in per_seed)})"
                ratios = " / ".join(f"{r['mse'] / reference:.3f}" for r in results[tree])
                print(
                    f"| {name} | {k} | {i} | {statistics.median(seconds):.1f} | {times} | {ratios} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()

"""Study: is it the decoder or the density that holds RRAE's samples back on MNIST-20k?

Usage: python benchmarks/studies/generation_density.py [--seeds 0 1 2] [--components 10 20 50]

The protocol of ``benchmarks/generation.py`` (its feature extractor, 10,000 test
images), k = 10, defaults otherwise. For RRAE and the vanilla autoencoder with a
10-long latent, each seed: the Fréchet distance of the reconstructions of the 10,000
test images (what the decoder can do when the codes are right), and of 10,000 samples
decoded from a full-covariance ``GaussianMixture`` with each number of components,
fitted on 5,000 training codes as ``sample()`` does (10 is the default density), with
the mixture's fit time.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import machine  # noqa: E402
from generation import study_protocol  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402

from sklearn_rrae import RRAETransformer  # noqa: E402
from sklearn_rrae._data import summary_rows  # noqa: E402
from sklearn_rrae.metrics import frechet_distance  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--components", type=int, nargs="+", default=[10, 20, 50])
    args = parser.parse_args()
    print(f"machine: {machine()}\n", flush=True)
    X, _, features, test, test_features, _ = study_protocol()

    def fd(images_):
        return frechet_distance(features(np.clip(images_, 0, 1)), test_features)

    makers = {
        "RRAE, k=10": lambda seed: RRAETransformer(n_components=10, random_state=seed),
        "vanilla AE, latent 10": lambda seed: RRAETransformer(
            n_components=None, latent_dim=10, random_state=seed
        ),
    }
    rows = {}
    for seed in args.seeds:
        for name, make in makers.items():
            model = make(seed).fit(X)
            row = {"reconstruction": fd(model.inverse_transform(model.transform(test)))}
            codes = model.transform(X)
            codes = codes[summary_rows(len(codes), seed)]
            for n in args.components:
                start = time.perf_counter()
                density = GaussianMixture(n, covariance_type="full", random_state=seed).fit(codes)
                row[f"fit {n}"] = time.perf_counter() - start
                draws = density.sample(10_000)[0]
                row[f"GMM {n}"] = fd(model.inverse_transform(draws))
            rows.setdefault(name, []).append(row)
            print(f"{name}, seed {seed}: " + ", ".join(f"{k} {v:.2f}" for k, v in row.items()), flush=True)

    columns = ["reconstruction"] + [f"GMM {n}" for n in args.components]
    print("\nFréchet distance, median (per seed)\n")
    print("| model | " + " | ".join(columns) + " | mixture fit (s) |")
    print("|---" * (len(columns) + 2) + "|")
    for name, runs in rows.items():
        cells = [
            f"{np.median([r[c] for r in runs]):.2f} ({' / '.join(f'{r[c]:.2f}' for r in runs)})"
            for c in columns
        ]
        fits = " / ".join(f"{np.median([r[f'fit {n}'] for r in runs]):.2f}" for n in args.components)
        print(f"| {name} | " + " | ".join(cells) + f" | {fits} |")
    rrae, vanilla = rows["RRAE, k=10"], rows["vanilla AE, latent 10"]
    print("\n| ratio RRAE / vanilla | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    cells = []
    for c in columns:
        per_seed = " / ".join(f"{r[c] / v[c]:.3f}" for r, v in zip(rrae, vanilla, strict=True))
        median = np.median([r[c] for r in rrae]) / np.median([v[c] for v in vanilla])
        cells.append(f"{median:.3f} ({per_seed})")
    print("| medians (per seed) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

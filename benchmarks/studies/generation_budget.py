"""RRAE against the vanilla autoencoder as generators when both train longer (issue 19).

Usage: python benchmarks/studies/generation_budget.py [--seeds 0 1 2] [--epochs 20 60]

MNIST, the first 20,000 training images, k = 10. ``max_epochs="auto"`` gives both
models 20 epochs there, which leaves both undertrained (NOTES, "Random
generation"). For each budget B, ``RRAETransformer(n_components=10, max_epochs=B)``
(defaults otherwise: its decoder's second stage runs half of B more epochs of the
decoder alone) and the vanilla autoencoder ``RRAETransformer(n_components=None,
latent_dim=10, max_epochs=B)`` and the same with 1.5 B epochs (as many decoder
passes as the RRAE's training and stage), fitted in turn per seed. The protocol of
``benchmarks/generation.py`` (its feature extractor, the default mixture, 10,000
samples against 10,000 test images): Fréchet distance, precision, held-out MSE and fit
time of each fit, then the RRAE's distance over each vanilla's, seed by seed.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from _common import machine  # noqa: E402
from generation import study_protocol  # noqa: E402

from sklearn_rrae import RRAETransformer  # noqa: E402
from sklearn_rrae.metrics import frechet_distance, precision_recall  # noqa: E402


def variants(budget):
    return {
        f"RRAE, {budget} epochs": dict(n_components=10, max_epochs=budget),
        f"vanilla, {budget} epochs": dict(n_components=None, latent_dim=10, max_epochs=budget),
        f"vanilla, {budget * 3 // 2} epochs": dict(
            n_components=None, latent_dim=10, max_epochs=budget * 3 // 2
        ),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, nargs="+", default=[20, 60])
    args = parser.parse_args()
    print(f"machine: {machine()}\n")
    X, X_test, features, _, test_features, _ = study_protocol()
    print("| model | seed | FD | precision | held-out MSE | fit (s) |\n|---|---|---|---|---|---|")
    fd = {}
    for budget in args.epochs:
        for seed in args.seeds:
            for name, params in variants(budget).items():
                start = time.perf_counter()
                model = RRAETransformer(random_state=seed, **params).fit(X)
                seconds = time.perf_counter() - start
                f = features(np.clip(model.sample(10_000, random_state=seed), 0, 1))
                precision, _ = precision_recall(test_features, f, k=3)
                mse = float(((X_test - model.inverse_transform(model.transform(X_test))) ** 2).mean())
                fd.setdefault(name, []).append(frechet_distance(f, test_features))
                print(
                    f"| {name} | {seed} | {fd[name][-1]:.2f} | {precision:.3f} | {mse:.5f} | {seconds:.1f} |",
                    flush=True,
                )
    print("\n| budget | RRAE FD / vanilla FD, same epochs: median (per seed) | / vanilla, 1.5 x the epochs |")
    print("|---|---|---|")
    for budget in args.epochs:
        rrae, same, longer = (fd[name] for name in variants(budget))
        ratios = [[r / v for r, v in zip(rrae, other, strict=True)] for other in (same, longer)]
        cells = [f"{statistics.median(x):.3f} ({' / '.join(f'{v:.3f}' for v in x)})" for x in ratios]
        print(f"| {budget} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()

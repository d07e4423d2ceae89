"""The decoder's second stage against the same time spent on more training epochs (issue 19).

Usage: python benchmarks/studies/decoder_stage_budget.py [--seeds 0 1 2]

MNIST, the first 20,000 training images, ``RRAETransformer(n_components=10,
random_state=seed)``: the defaults (20 epochs, then 10 epochs of the decoder alone on
the global basis, ``decoder_epochs="auto"``), 30 epochs without the stage, and 20
epochs without it. The protocol of ``benchmarks/generation.py`` (its feature
extractor; 10,000 samples against 10,000 test images): Fréchet distance, precision,
held-out MSE and fit time of each fit.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from generation import study_protocol  # noqa: E402

from sklearn_rrae import RRAETransformer  # noqa: E402
from sklearn_rrae.metrics import frechet_distance, precision_recall  # noqa: E402

VARIANTS = {
    "defaults (20 epochs + 10 decoder)": {},
    "30 epochs, no stage": dict(max_epochs=30, decoder_epochs=0),
    "20 epochs, no stage": dict(decoder_epochs=0),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    X, X_test, features, _, test_features, _ = study_protocol()
    print("| variant | seed | FD | precision | held-out MSE | fit (s) |\n|---|---|---|---|---|---|")
    for seed in args.seeds:
        for name, params in VARIANTS.items():
            start = time.perf_counter()
            model = RRAETransformer(n_components=10, random_state=seed, **params).fit(X)
            seconds = time.perf_counter() - start
            f = features(np.clip(model.sample(10_000, random_state=seed), 0, 1))
            precision, _ = precision_recall(test_features, f, k=3)
            mse = float(((X_test - model.inverse_transform(model.transform(X_test))) ** 2).mean())
            print(
                f"| {name} | {seed} | {frechet_distance(f, test_features):.2f} | {precision:.3f} | "
                f"{mse:.5f} | {seconds:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

"""The decoder's second stage on small data, validated (issue 19): does it help where "auto" is off?

Usage: python benchmarks/studies/decoder_stage_small_data.py

Olivetti k = 5, digits k = 5, MNIST-1000 k = 10 and breast cancer k = 5 (the splits of
``pca_panel.py``), seeds 0-2: held-out MSE / PCA's with ``decoder_epochs=0`` and with
``decoder_epochs=50`` (validated on the early stopping's rows, the decoder before the
stage a candidate), what the stage ran, and the fit times.
"""

import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import digits  # noqa: E402
from pca_panel import breast_cancer, mnist_1000, olivetti, reconstruction_mse  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

from sklearn_rrae import RRAETransformer  # noqa: E402

PROBLEMS = (
    ("Olivetti", olivetti, 5),
    ("digits", digits, 5),
    ("MNIST-1000", mnist_1000, 10),
    ("breast cancer", breast_cancer, 5),
)


def main():
    warnings.simplefilter("ignore")  # LinearStartKeptWarning on the fits that keep their start
    print("| data | k | seed | no stage | validated stage, 50 epochs | stage | fit (s), no / with |")
    print("|---|---|---|---|---|---|---|")
    for name, load, k in PROBLEMS:
        X_train, X_test = load()
        pca = reconstruction_mse(PCA(k).fit(X_train), X_test)
        for seed in (0, 1, 2):
            ratios, seconds = [], []
            for epochs in (0, 50):
                start = time.perf_counter()
                model = RRAETransformer(n_components=k, random_state=seed, decoder_epochs=epochs).fit(X_train)
                seconds.append(time.perf_counter() - start)
                ratios.append(reconstruction_mse(model, X_test) / pca)
            scores = model.decoder_validation_scores_
            stage = f"{model.decoder_n_iter_} epochs, best {max(scores):.4g}" if scores else "none"
            print(
                f"| {name} | {k} | {seed} | {ratios[0]:.3f} | {ratios[1]:.3f} | {stage} | "
                f"{seconds[0]:.1f} / {seconds[1]:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

"""Study: the PCA start's drift on mixed scales, and the decoder residual in units of PCA's residual.

Usage: python benchmarks/studies/residual_scale.py [--seeds 0 1] [--powers 1 0.5 0.25] [--lr-variant 1e-4]
       python benchmarks/studies/residual_scale.py --panel P [pca_panel.py's arguments]

On wine resampled to 20,000 rows (``large_tabular.py``'s data) the PCA start's
first epochs move the feature whose variance is 10^5 times another's away from
PCA's exact reconstruction. Variant ``residual^p``: the decoder's residual output
for feature j is multiplied by ``(s_j / g_j) ** p``, where ``s_j`` is the spread of
PCA's residual of that feature on the training rows and ``g_j`` the module's output
gain (the feature's own spread), both in model units: a feature PCA reconstructs
almost exactly gets a residual of about its error's size. ``lr=...``: the
defaults at another learning rate. The training-rows check is switched off
(``_callbacks.beats`` answers yes) to see the trained models themselves. Held-out
MSE / PCA's on wine-20k, breast cancer 70/30 and the digits 70/30 at k = 5.
With ``--panel P``: ``benchmarks/pca_panel.py`` (its arguments follow) with the
variant ``residual^P`` in every PCA start and the training-rows check as it is.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from large_tabular import jittered
from sklearn.datasets import load_wine
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import digits  # noqa: E402
from pca_panel import breast_cancer, reconstruction_mse  # noqa: E402

import sklearn_rrae._callbacks as _callbacks  # noqa: E402
import sklearn_rrae._net as _net  # noqa: E402
from sklearn_rrae import RRAETransformer  # noqa: E402
from sklearn_rrae._linear_start import pca_start  # noqa: E402
from sklearn_rrae._scaling import Scaling  # noqa: E402

POWER = [None]  # the variant's p; None: the package's start
TRAINING_ROWS = [None]  # the fit's training rows, float64


def scaled_residual_start(encoder, decoder, axes, output_gain):
    encoder, decoder = pca_start(encoder, decoder, axes, output_gain)
    if POWER[0] is None:
        return encoder, decoder
    X = TRAINING_ROWS[0]
    scaling = Scaling.of(X)
    Z = (X / scaling.max_abs - scaling.mean) / scaling.unit
    A = np.asarray(axes, dtype=np.float64)
    spread = (Z - (Z @ A.T) @ A).std(axis=0)
    gain = np.asarray(output_gain, dtype=np.float64)
    scale = np.divide(spread, gain, out=np.zeros_like(gain), where=gain > 0) ** POWER[0]
    scale = torch.as_tensor(scale, dtype=torch.float32)
    k = decoder.axes.shape[0]

    def forward(latent):
        return (latent[:, :k] @ decoder.axes) * decoder.inverse_gain + decoder.residual(latent) * scale

    decoder.forward = forward
    return encoder, decoder


def wine_20k():
    return train_test_split(jittered(load_wine().data, 20_000, 0), test_size=0.3, random_state=0)


def panel(power, argv):
    """``pca_panel.py`` with ``residual^power`` in each PCA start (fitted on the fit's own rows)."""
    import pca_panel

    fit = RRAETransformer.fit

    def fit_recording_rows(self, X, y=None):
        TRAINING_ROWS[0] = np.asarray(X, dtype=np.float64)
        return fit(self, X, y)

    RRAETransformer.fit = fit_recording_rows
    _net.pca_start = scaled_residual_start
    POWER[0] = power
    sys.argv = ["pca_panel.py", *argv]
    print(f"variant: residual^{power:g} in every PCA start")
    pca_panel.main()


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--panel":
        return panel(float(sys.argv[2]), sys.argv[3:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--powers", type=float, nargs="*", default=[1.0, 0.5, 0.25])
    parser.add_argument("--lr-variant", type=float, default=1e-4)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    _callbacks.beats = lambda errors, reference, margin=2.0: True
    _net.pca_start = scaled_residual_start
    variants = [("defaults", None, {}), (f"lr={args.lr_variant:g}", None, {"lr": args.lr_variant})]
    variants += [(f"residual^{p:g}", p, {}) for p in args.powers]
    for name, load in [("wine-20k", wine_20k), ("breast cancer", breast_cancer), ("digits", digits)]:
        X_train, X_test = load()
        pca = PCA(5).fit(X_train)
        reference = reconstruction_mse(pca, X_test)
        TRAINING_ROWS[0] = np.asarray(X_train, dtype=np.float64)
        for label, power, params in variants:
            for seed in args.seeds:
                POWER[0] = power
                start = time.perf_counter()
                model = RRAETransformer(n_components=5, random_state=seed, **params).fit(X_train)
                ratio = reconstruction_mse(model, X_test) / reference
                print(
                    f"{name}, k=5, {label}, seed {seed}: {ratio:.3f} x PCA, "
                    f"{model.n_iter_} epochs, {time.perf_counter() - start:.1f} s",
                    flush=True,
                )


if __name__ == "__main__":
    main()

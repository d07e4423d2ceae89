"""
===========================================
Walking between two digits in latent space
===========================================

Codes can be mixed: interpolating linearly between the codes of two images
and decoding gives a path from one image to the other. With PCA the decoder
is linear, so the path is a cross-fade of the two images (both are visible
half-way). An RRAE decodes the same kind of linear path in its codes through
a nonlinear decoder. The RRAE paper measures how digit-like such
interpolations are; ``docs/benchmarks.md`` repeats that measurement on MNIST.

Both models use the same rank, and the interpolation uses
:func:`sklearn_rrae.interpolation.interpolate_codes`, the helper of the
paper's test protocol (codes known at parameters 0 and 1, wanted in between).
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from sklearn_rrae import RRAETransformer
from sklearn_rrae.interpolation import interpolate_codes

QUICK = os.environ.get("SKLEARN_RRAE_GALLERY_QUICK") == "1"

X, y = load_digits(return_X_y=True)
k = 5
models = {
    "PCA": PCA(n_components=k).fit(X),
    "RRAE": RRAETransformer(n_components=k, max_epochs=5 if QUICK else 60, random_state=0).fit(X),
}

# %%
# Interpolate the codes of two images
# -----------------------------------
#
# Pairs of different digits: the first 1 and 7, and the first 3 and 8 of the
# data set. Eight evenly spaced points from one code to the other.

pairs = [(np.flatnonzero(y == a)[0], np.flatnonzero(y == b)[0]) for a, b in [(1, 7), (3, 8)]]
steps = np.linspace(0, 1, 8)
paths = {}
for name, model in models.items():
    for i, j in pairs:
        codes = model.transform(X[[i, j]])
        path = model.inverse_transform(interpolate_codes([0.0, 1.0], codes, steps))
        paths[name, i, j] = np.clip(path, 0, 16)  # the pixel range of the digits

# %%
# The paths
# ---------
#
# One row per model and pair; the first and last images of each row are the
# models' reconstructions of the two digits.

fig, axes = plt.subplots(4, len(steps), figsize=(8, 4.6))
for row, ((name, i, j), path) in enumerate(sorted(paths.items(), key=lambda kv: (kv[0][1], kv[0][0]))):
    for col, image in enumerate(path):
        ax = axes[row, col]
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[row, 0].set_ylabel(f"{name}\n{y[i]} to {y[j]}", rotation=0, ha="right", va="center")
fig.suptitle(f"Linear paths between codes, decoded (k = {k})")
fig.tight_layout()
plt.show()

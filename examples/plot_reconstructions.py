"""
================================================
Reconstructing test images: RRAE against PCA
================================================

Both models compress each image to ``k`` numbers and decode it back. They are
fitted on training images and asked to reconstruct images they have not seen.

The data are MNIST when the project's data folder is at hand (the environment
variable ``SKLEARN_RRAE_DATA``, or ``../shared/data`` next to the repository,
must hold ``mnist.npz``), and the 8x8 digits of scikit-learn otherwise.
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from sklearn_rrae import RRAETransformer

QUICK = os.environ.get("SKLEARN_RRAE_GALLERY_QUICK") == "1"

# Sphinx-Gallery runs examples from their own folder, without ``__file__``.
here = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
data = Path(os.environ.get("SKLEARN_RRAE_DATA", here.parents[1] / "shared" / "data")) / "mnist.npz"

if data.is_file():
    n_train = 3000 if QUICK else 10000
    with np.load(data) as d:
        X_train = d["x_train"][:n_train].reshape(n_train, -1) / 255.0
        X_test = d["x_test"][:2000].reshape(2000, -1) / 255.0
    name, side, k = f"MNIST ({n_train} training images)", 28, 10
else:
    X, _ = load_digits(return_X_y=True)
    X_train, X_test = train_test_split(X / 16.0, test_size=0.3, random_state=0)
    name, side, k = "digits", 8, 5
print(f"{name}: train {X_train.shape}, test {X_test.shape}, k = {k}")

pca = PCA(n_components=k).fit(X_train)
rrae = RRAETransformer(n_components=k, max_epochs=5 if QUICK else "auto", random_state=0).fit(X_train)


def reconstruct(model, X):
    return model.inverse_transform(model.transform(X))


errors = {
    m: np.mean((X_test - reconstruct(model, X_test)) ** 2) for m, model in [("PCA", pca), ("RRAE", rrae)]
}
print(", ".join(f"{m} held-out MSE {e:.4f}" for m, e in errors.items()))
print(f"RRAE / PCA: {errors['RRAE'] / errors['PCA']:.2f}")

# %%
# The first test images and their reconstructions
# -----------------------------------------------

n_show = 8
rows = {
    "test image": X_test[:n_show],
    f"RRAE, k={k}": reconstruct(rrae, X_test[:n_show]),
    f"PCA, k={k}": reconstruct(pca, X_test[:n_show]),
}
fig, axes = plt.subplots(3, n_show, figsize=(8, 3.4))
for r, (label, images) in enumerate(rows.items()):
    for c in range(n_show):
        ax = axes[r, c]
        ax.imshow(images[c].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center")
fig.suptitle(f"{name}: held-out MSE RRAE {errors['RRAE']:.4f}, PCA {errors['PCA']:.4f}")
fig.tight_layout()
plt.show()

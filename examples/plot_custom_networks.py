"""
=================================================
Images and networks of your own: CNN and custom
=================================================

Rows stay flat, as everywhere in scikit-learn. ``architecture="cnn"`` with
``input_shape`` swaps the fully connected networks for a convolutional encoder
(stride-2 convolutions, then a linear map to the long latent) and its mirror
image as the decoder; ``encoder=`` and ``decoder=`` take any ``torch.nn.Module``
class (its arguments skorch-style, ``encoder__width=64``) or instance. The rank
truncation, the global basis, ``transform`` and ``inverse_transform`` are the
same code whatever the networks. Here both variants reconstruct held-out 8x8
digits from 5 coefficients, next to PCA with 5 components.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from torch import nn

from sklearn_rrae import RRAETransformer

QUICK = os.environ.get("SKLEARN_RRAE_GALLERY_QUICK") == "1"
EPOCHS = 30 if QUICK else "auto"


class Encoder(nn.Module):
    """Any module that maps (batch, n_features) to (batch, latent_dim).

    The estimator passes ``n_features`` and ``latent_dim`` to the constructors
    that take them; ``width`` comes from ``encoder__width``.
    """

    def __init__(self, n_features, latent_dim, width=128):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(n_features, width), nn.GELU(), nn.Linear(width, latent_dim))

    def forward(self, X):
        return self.layers(X)


X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)

models = {
    "CNN RRAE": RRAETransformer(
        n_components=5, architecture="cnn", input_shape=(8, 8), max_epochs=EPOCHS, random_state=0
    ),
    # Your encoder, the built-in MLP decoder.
    "custom-encoder RRAE": RRAETransformer(
        n_components=5, encoder=Encoder, encoder__width=64, max_epochs=EPOCHS, random_state=0
    ),
    "PCA": PCA(n_components=5),
}
reconstructions = {}
for name, model in models.items():
    codes = model.fit(X_train).transform(X_test)
    reconstructions[name] = model.inverse_transform(codes)
    error = np.mean((X_test - reconstructions[name]) ** 2)
    print(f"{name:>20}: codes {codes.shape}, held-out reconstruction MSE {error:.3f}")

# %%
# Held-out digits and their reconstructions from 5 coefficients
# -------------------------------------------------------------

rows = {"original": X_test, **reconstructions}
n_shown = 8
fig, axes = plt.subplots(len(rows), n_shown, figsize=(n_shown, 1.2 * len(rows)))
for row, (name, images) in zip(axes, rows.items(), strict=True):
    for ax, image in zip(row, images[:n_shown], strict=True):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
fig.tight_layout()
plt.show()

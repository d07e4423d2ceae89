"""A CNN RRAE and a network of your own on the 8x8 digits (about 3 minutes on 2 busy CPU cores)."""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from sklearn_rrae import RRAETransformer


class Encoder(nn.Module):
    """Any module that maps (batch, n_features) to (batch, latent_dim)."""

    def __init__(self, n_features, latent_dim, width=128):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(n_features, width), nn.GELU(), nn.Linear(width, latent_dim))

    def forward(self, X):
        return self.layers(X)


X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)

models = {
    "CNN": RRAETransformer(n_components=5, architecture="cnn", input_shape=(8, 8), random_state=0),
    # Your encoder, the built-in MLP decoder; the estimator passes n_features and latent_dim.
    "custom encoder": RRAETransformer(n_components=5, encoder=Encoder, encoder__width=64, random_state=0),
}
for name, model in models.items():
    codes = model.fit(X_train).transform(X_test)
    images = model.inverse_transform(codes).reshape(-1, *model.input_shape_) if model.input_shape_ else None
    error = np.mean((X_test - model.inverse_transform(codes)) ** 2)
    shown = "" if images is None else f", images {images.shape}"
    print(f"{name:>15}: codes {codes.shape}{shown}, held-out reconstruction MSE {error:.3f}")

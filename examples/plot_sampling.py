"""
=====================================
Generating digits with ``sample()``
=====================================

A deterministic autoencoder becomes a generator once a density is fitted to
its codes (Ghosh et al. 2020). ``RRAETransformer`` does it at the end of
``fit``: by default a 10-component full-covariance Gaussian mixture on the
training codes (``density_``), and :meth:`~sklearn_rrae.RRAETransformer.sample`
draws codes from it and decodes them.

This example samples digits from an RRAE and, for comparison, from PCA with
the same density on its codes, and scores both against held-out digits with
:mod:`sklearn_rrae.metrics` (on the pixels themselves here; the benchmark uses
a classifier's features).
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from sklearn.model_selection import train_test_split

from sklearn_rrae import RRAETransformer
from sklearn_rrae.metrics import frechet_distance, precision_recall

QUICK = os.environ.get("SKLEARN_RRAE_GALLERY_QUICK") == "1"

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
k = 5

rrae = RRAETransformer(n_components=k, random_state=0, **({"max_epochs": 5} if QUICK else {})).fit(X_train)
rrae_samples = rrae.sample(len(X_test), random_state=0)
print("density:", rrae.density_)

# PCA with the same density on its codes.
pca = PCA(n_components=k).fit(X_train)
pca_density = GaussianMixture(n_components=10, covariance_type="full", random_state=0).fit(
    pca.transform(X_train)
)
pca_samples = pca.inverse_transform(pca_density.sample(len(X_test))[0])

# %%
# How realistic, how varied
# -------------------------
#
# The Fréchet distance compares the mean and covariance of the samples with
# those of held-out digits (lower is better); precision is the share of samples
# that fall near real digits, recall the share of real digits near some sample.
# In raw pixels PCA's samples, blurred onto a 5-dimensional subspace, cover
# none of the real digits (recall 0); the RRAE's cover about a quarter.

for name, samples in [("RRAE", rrae_samples), ("PCA + the same mixture", pca_samples)]:
    samples = np.clip(samples, 0, 16)
    precision, recall = precision_recall(X_test, samples)
    print(
        f"{name}: Fréchet distance {frechet_distance(samples, X_test):.1f}, "
        f"precision {precision:.2f}, recall {recall:.2f}"
    )

# %%
# The samples
# -----------

fig, axes = plt.subplots(2, 1, figsize=(8, 3.6))
grids = [("RRAE, k=5", rrae_samples), ("PCA + mixture, k=5", pca_samples)]
for ax, (name, samples) in zip(axes, grids, strict=True):
    tiles = np.clip(samples[:16], 0, 16).reshape(16, 8, 8).transpose(1, 0, 2).reshape(8, 128)
    ax.imshow(tiles, cmap="gray_r")
    ax.set_title(name)
    ax.axis("off")
fig.tight_layout()
plt.show()

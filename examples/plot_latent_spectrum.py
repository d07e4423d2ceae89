"""
=============================================
Singular values of the latent space: the rank
=============================================

In an RRAE the bottleneck is the *rank* of the latent space, not its width:
every sample is encoded to a vector of length ``latent_dim``, but the decoder
only ever sees latents that lie in a ``k``-dimensional subspace of it (during
training, each batch latent is truncated to rank ``k``; after training, latents
are projected on the global basis ``components_``).

This example trains an RRAE with ``n_components=5`` and the same network with
``n_components=None`` (a plain autoencoder with a long latent of the same
length) on the digits, and compares the singular values of the latent matrix
of the training set that each decoder receives.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from sklearn_rrae import RRAETransformer

QUICK = os.environ.get("SKLEARN_RRAE_GALLERY_QUICK") == "1"

X, _ = load_digits(return_X_y=True)
k = 5
settings = dict(latent_dim=64, hidden_layer_sizes=(128, 128), max_epochs=5 if QUICK else 40, random_state=0)
rrae = RRAETransformer(n_components=k, **settings).fit(X)
plain = RRAETransformer(n_components=None, **settings).fit(X)

# %%
# The latent matrices
# -------------------
#
# For the RRAE, the latent the decoder receives for a sample is its code on
# the global basis mapped back to the long latent space,
# ``transform(x) @ components_``. For the plain autoencoder, ``transform``
# returns the latent itself (its ``components_`` is the identity).

latent_rrae = rrae.transform(X) @ rrae.components_
latent_plain = plain.transform(X)
print("latent shapes:", latent_rrae.shape, latent_plain.shape)

s_rrae = np.linalg.svd(latent_rrae, compute_uv=False)
s_plain = np.linalg.svd(latent_plain, compute_uv=False)
# The plain autoencoder's singular values are also a fitted attribute.
print("plain AE singular_values_ match:", np.allclose(s_plain, plain.singular_values_, rtol=1e-4))

rel_rrae, rel_plain = s_rrae / s_rrae[0], s_plain / s_plain[0]
print(f"RRAE: {np.sum(rel_rrae > 1e-4)} singular values above 1e-4 x the largest")
print(f"RRAE: singular value {k + 1} / largest = {rel_rrae[k]:.1e}")
energy = np.cumsum(s_plain**2) / np.sum(s_plain**2)
print(f"plain AE: {np.searchsorted(energy, 0.99) + 1} directions hold 99 % of the latent's energy")

# %%
# The spectra
# -----------
#
# The RRAE's latent has exactly ``k`` non-zero singular values: the others are
# at the level of floating-point round-off (printed above; exact zeros, if any,
# are drawn at 1e-18). The plain autoencoder spreads its training set over many
# more directions of its latent.

fig, ax = plt.subplots(figsize=(6, 4))
index = np.arange(1, len(s_rrae) + 1)
ax.semilogy(index, rel_plain, "o-", ms=3, color="tab:gray", label="plain autoencoder (n_components=None)")
ax.semilogy(
    index, np.maximum(rel_rrae, 1e-18), "o-", ms=3, color="tab:blue", label=f"RRAE (n_components={k})"
)
ax.axvline(k + 0.5, color="tab:blue", ls=":", lw=1)
ax.set_xlabel("singular value index")
ax.set_ylabel("singular value / largest")
ax.set_title(f"Training latent of the digits ({settings['latent_dim']}-long latent)")
ax.legend()
fig.tight_layout()
plt.show()

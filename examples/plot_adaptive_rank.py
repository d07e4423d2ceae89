"""
=====================================
The adaptive rank, epoch after epoch
=====================================

:class:`~sklearn_rrae.AdaptiveRRAETransformer` has no ``n_components``: it
starts at a large rank, and while it trains it drops the least important modes
of the latent as long as the training loss comes back to what it reached at the
start rank; when a rank cannot get there, it goes back to the last one that did.

Its fitted ``rank_history_`` records every change of rank (the epoch, the new
rank, the loss that decided it) and ``loss_curve_`` the loss of every epoch.
The problem is one of the paper's synthetic families,
:func:`sklearn_rrae.datasets.make_two_gaussians`: signals with two bumps whose
positions are the only two parameters, so the intrinsic dimension is 2.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA

from sklearn_rrae import AdaptiveRRAETransformer
from sklearn_rrae.datasets import make_two_gaussians

QUICK = os.environ.get("SKLEARN_RRAE_GALLERY_QUICK") == "1"

X_train, X_test, p_train, p_test = make_two_gaussians(n_test=200, random_state=0)
print("training signals:", X_train.shape)

model = AdaptiveRRAETransformer(
    max_components=16 if QUICK else "auto", max_epochs=200 if QUICK else "auto", random_state=0
).fit(X_train)
print(f"start rank {model.rank_history_[0][1]}, rank found {model.n_components_}, {model.n_iter_} epochs")
for epoch, rank, loss in model.rank_history_[1:]:
    print(f"  epoch {epoch:4d}: rank {rank:2d} (after a loss of {loss:.2e})")


# %%
# Held-out reconstruction at the rank found, against PCA at the same rank
# -----------------------------------------------------------------------


def relative_error(model, X):
    X_hat = model.inverse_transform(model.transform(X))
    return np.linalg.norm(X - X_hat) / np.linalg.norm(X)


pca = PCA(n_components=model.n_components_).fit(X_train)
print(
    f"relative error on test signals: adaptive RRAE {relative_error(model, X_test):.1%}, "
    f"PCA {relative_error(pca, X_test):.1%}"
)

# %%
# Rank and loss against the epoch
# -------------------------------
#
# The rank is a step function: it holds from one change to the next. The
# dashed line is the loss a rank had to reach to be kept (``target_loss_``).

epochs = np.arange(1, model.n_iter_ + 1)
change_epochs = [e for e, _, _ in model.rank_history_]
change_ranks = [r for _, r, _ in model.rank_history_]
rank_per_epoch = [change_ranks[np.searchsorted(change_epochs, e, side="right") - 1] for e in epochs]

fig, (ax_rank, ax_loss) = plt.subplots(2, 1, sharex=True, figsize=(6, 5))
ax_rank.step(epochs, rank_per_epoch, where="post", color="tab:blue")
ax_rank.set_yscale("log", base=2)
ticks = [2**i for i in range(int(np.log2(max(change_ranks))) + 1)]
ax_rank.set_yticks(ticks, [str(t) for t in ticks])
ax_rank.set_ylabel("rank")
ax_rank.set_title(f"Two Gaussian bumps: rank {model.n_components_} found")
ax_loss.semilogy(epochs, model.loss_curve_, color="tab:orange")
ax_loss.axhline(model.target_loss_, color="k", ls="--", lw=1, label="target loss")
ax_loss.set_xlabel("epoch")
ax_loss.set_ylabel("training loss (MSE)")
ax_loss.legend()
fig.tight_layout()
plt.show()

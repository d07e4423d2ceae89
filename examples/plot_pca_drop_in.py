"""
=======================================
RRAE as a drop-in for PCA in a pipeline
=======================================

:class:`~sklearn_rrae.RRAETransformer` has the API of
:class:`~sklearn.decomposition.PCA`: ``n_components``, ``fit``, ``transform``,
``inverse_transform``. So it can take PCA's place in a pipeline, and its rank
can be tuned by :class:`~sklearn.model_selection.GridSearchCV` like PCA's.

Here both reduce the 64 pixels of the 8x8 digits to ``k`` features for a
logistic regression, and a grid search picks ``k``. Accuracy levels off as the
rank grows, and reconstruction error always prefers the largest rank, so the
plain "best score" rule picks the largest rank that is even marginally
better.
:func:`~sklearn_rrae.model_selection.smallest_rank_refit` makes the search refit
the *smallest* rank whose mean cross-validated accuracy is within a tolerance of
the best one.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_rrae import RRAETransformer
from sklearn_rrae.model_selection import smallest_rank_refit

# Smaller settings when the documentation is built by the continuous integration.
QUICK = os.environ.get("SKLEARN_RRAE_GALLERY_QUICK") == "1"

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)

# %%
# Two pipelines that differ only in the reduction step
# ----------------------------------------------------
#
# The codes of an RRAE have no natural scale, so a ``StandardScaler`` goes
# before the classifier in both pipelines. The network is smaller than the
# default one and trains for a fixed, small number of epochs with a larger
# learning rate, to keep the example fast.

rrae = RRAETransformer(
    latent_dim=32,
    hidden_layer_sizes=(128,),
    max_epochs=5 if QUICK else 30,
    batch_size=256,
    lr=3e-3,
    random_state=0,
)
ranks = [2, 4] if QUICK else [2, 4, 8, 16, 32]
tol = 0.02  # two points of accuracy

searches = {}
for name, reducer in [("PCA", PCA(random_state=0)), ("RRAE", rrae)]:
    pipe = Pipeline(
        [("reduce", reducer), ("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=1000))]
    )
    searches[name] = GridSearchCV(
        pipe, {"reduce__n_components": ranks}, cv=3, refit=smallest_rank_refit(tol)
    ).fit(X_train, y_train)

for name, search in searches.items():
    scores = search.cv_results_["mean_test_score"]
    print(
        f"{name:>4}: CV accuracy by rank "
        + ", ".join(f"{k}: {score:.3f}" for k, score in zip(ranks, scores, strict=True))
        + f"; refit at k = {search.best_params_['reduce__n_components']} "
        f"(best score at k = {ranks[int(np.argmax(scores))]}); "
        f"test accuracy {search.score(X_test, y_test):.3f}"
    )

# %%
# The printout compares, for each method, the rank refitted by the helper with
# the rank of the best mean score (what ``refit=True`` would refit), and gives
# the accuracy of the refitted pipeline on the held-out 30 %.
#
# Accuracy against the rank
# -------------------------
#
# The shaded band is the tolerance below each method's best mean score; the
# circled point is the rank the search refitted.

fig, ax = plt.subplots(figsize=(6, 4))
for (name, search), color in zip(searches.items(), ["tab:gray", "tab:blue"], strict=True):
    mean = search.cv_results_["mean_test_score"]
    std = search.cv_results_["std_test_score"]
    ax.errorbar(ranks, mean, yerr=std, marker="o", color=color, capsize=3, label=name)
    ax.axhspan(mean.max() - tol, mean.max(), color=color, alpha=0.15)
    chosen = search.best_index_
    ax.plot(ranks[chosen], mean[chosen], "o", ms=14, mfc="none", mec=color, mew=2)
ax.set_xscale("log", base=2)
ax.set_xticks(ranks, [str(k) for k in ranks])
ax.set_xlabel("rank k (n_components)")
ax.set_ylabel("mean 3-fold CV accuracy")
ax.set_title("Digits: logistic regression on k features")
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()

"""
===========================================================
Every rank from one fit: the rank curve and the scree plot
===========================================================

PCA gives every rank at once: one fit, and ``explained_variance_ratio_`` says
what each component adds. An RRAE fitted with ``nested=True`` does the same:
its codes are ordered by singular value and it is trained so that its first
``r`` codes are a rank-``r`` model, for every ``r`` up to ``n_components``.

This example draws the RRAE's scree plot next to PCA's, then cross-validates
the rank of a classification pipeline with
:func:`~sklearn_rrae.model_selection.rank_curve`: one fit of the RRAE per
fold serves all the ranks, where a grid search would train one model per rank
and fold.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_rrae import RRAETransformer
from sklearn_rrae.model_selection import rank_curve, select_smallest_rank

QUICK = os.environ.get("SKLEARN_RRAE_GALLERY_QUICK") == "1"

X, y = load_digits(return_X_y=True)
K = 10
# Defaults, except in the documentation's quick build.
settings = dict(random_state=0, **({"max_epochs": 5} if QUICK else {}))

# %%
# The scree plot
# --------------
#
# ``explained_variance_ratio_`` is defined as PCA's, in data space and on the
# training data: entry ``r`` is the share of the total variance that rank
# ``r + 1`` explains beyond rank ``r``, so its ``cumsum`` is one minus the
# rank-``r`` reconstruction error over the total variance, and the scree-plot
# code written for PCA works unchanged. A model fitted at rank ``K`` without
# ``nested`` is trained for its full rank only: its prefixes are poor, and its
# ratio shows it.

pca = PCA(n_components=K).fit(X)
nested = RRAETransformer(n_components=K, nested=True, **settings).fit(X)
plain = RRAETransformer(n_components=K, **settings).fit(X)

ranks = np.arange(1, K + 1)
fig, ax = plt.subplots(figsize=(6, 4))
for model, label in [(pca, "PCA"), (nested, "RRAE, nested=True"), (plain, "RRAE, nested=False")]:
    ax.plot(ranks, np.cumsum(model.explained_variance_ratio_), "o-", label=label)
    print(f"{label}: cumulative explained variance {np.round(np.cumsum(model.explained_variance_ratio_), 3)}")
ax.set_xlabel("rank r")
ax.set_ylabel("cumulative explained variance (training data)")
ax.set_title("Digits: what each rank explains")
ax.legend()
fig.tight_layout()

# %%
# The rank of a classification pipeline, cross-validated
# ------------------------------------------------------
#
# ``rank_curve`` fits the scaler and the RRAE once per fold, then the logistic
# regression once per rank on the first ``r`` codes, and returns the mean and
# spread of the held-out accuracy at every rank, in the layout of a search's
# ``cv_results_``: :func:`~sklearn_rrae.model_selection.select_smallest_rank`
# picks the smallest rank within a point of accuracy of the best.

pipe = make_pipeline(
    RRAETransformer(n_components=K, nested=True, **settings),
    StandardScaler(),
    LogisticRegression(max_iter=1000),
)
cv = StratifiedKFold(3)
curve = rank_curve(pipe, X, y, cv=cv)
chosen = curve["ranks"][select_smallest_rank(curve, tol=0.01)]
print("held-out accuracy by rank:", np.round(curve["mean_test_score"], 3))
print(f"smallest rank within 0.01 of the best: {chosen}")
print(f"one RRAE fit per fold: {np.round(curve['fit_time'], 1)} s")

# PCA's pipeline on the same folds, for comparison: one fit per rank and fold.
pca_pipe_scores = [
    cross_val_score(
        make_pipeline(PCA(r), StandardScaler(), LogisticRegression(max_iter=1000)), X, y, cv=cv
    ).mean()
    for r in ranks
]
print("PCA pipeline, held-out accuracy by rank:", np.round(pca_pipe_scores, 3))

fig, ax = plt.subplots(figsize=(6, 4))
ax.errorbar(ranks, curve["mean_test_score"], yerr=curve["std_test_score"], fmt="o-", label="RRAE, rank_curve")
ax.plot(ranks, pca_pipe_scores, "s--", label="PCA, one fit per rank")
ax.axvline(chosen, color="grey", linestyle=":", label=f"chosen rank {chosen}")
ax.set_xlabel("rank r")
ax.set_ylabel("held-out accuracy (3 folds)")
ax.set_title("Digits: logistic regression on the first r codes")
ax.legend()
fig.tight_layout()
plt.show()

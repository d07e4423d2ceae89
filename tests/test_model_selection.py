"""The refit helper that picks the smallest good rank in a grid search."""

import copy
import pickle

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_rrae import RRAETransformer
from sklearn_rrae.model_selection import neg_reconstruction_mse, select_smallest_rank, smallest_rank_refit

from .conftest import FAST


def results(ranks, scores, name="n_components", scoring="score"):
    return {
        f"param_{name}": np.ma.masked_array(ranks, dtype=object),
        f"mean_test_{scoring}": np.asarray(scores, dtype=np.float64),
    }


@pytest.mark.parametrize(
    "tol, expected",
    [(0.0, 2), (0.01, 2), (0.021, 1), (0.14, 1), (0.151, 0), (1.0, 0)],
)
def test_absolute_tolerance(tol, expected):
    # best 0.95 at rank 8; rank 4 is 0.02 below it, rank 2 0.15 below.
    cv = results([2, 4, 8, 16], [0.80, 0.93, 0.95, 0.94])
    assert select_smallest_rank(cv, tol=tol) == expected


def test_the_threshold_itself_is_within_the_tolerance():
    cv = results([1, 2], [0.5, 0.75])
    assert select_smallest_rank(cv, tol=0.25) == 0
    assert select_smallest_rank(cv, tol=0.2499) == 1


def test_relative_tolerance_scales_with_the_best_score():
    # Negative MSE: best -10.0; 5 % of it is 0.5, so -10.4 qualifies and -10.6 does not.
    cv = results([2, 3, 5], [-10.6, -10.4, -10.0])
    assert select_smallest_rank(cv, tol=0.05, relative=True) == 1
    assert select_smallest_rank(cv, tol=0.07, relative=True) == 0
    # The same tol read as absolute is far too small for these units.
    assert select_smallest_rank(cv, tol=0.05) == 2


def test_order_of_the_candidates_does_not_matter():
    cv = results([16, 2, 8, 4], [0.94, 0.80, 0.95, 0.93])
    assert select_smallest_rank(cv, tol=0.03) == 3


def test_nan_scores_are_ignored():
    cv = results([2, 4, 8], [np.nan, 0.90, 0.91])
    assert select_smallest_rank(cv, tol=0.05) == 1
    # A NaN best does not poison the threshold either.
    cv = results([2, 4, 8], [0.90, 0.91, np.nan])
    assert select_smallest_rank(cv, tol=0.05) == 0


def test_all_nan_scores_raise():
    with pytest.raises(ValueError, match="NaN"):
        select_smallest_rank(results([2, 4], [np.nan, np.nan]))


def test_ties_in_rank_go_to_the_best_score_then_the_first():
    # Two candidates per rank (another hyperparameter differs).
    cv = results([2, 2, 4, 4], [0.90, 0.92, 0.93, 0.93])
    assert select_smallest_rank(cv, tol=0.05) == 1
    cv = results([2, 2, 4], [0.92, 0.92, 0.93])
    assert select_smallest_rank(cv, tol=0.05) == 0


def test_ranks_that_are_not_numbers_come_last():
    ranks = np.ma.masked_array([None, 3, "mle", 5], mask=[False, False, False, False], dtype=object)
    cv = {"param_n_components": ranks, "mean_test_score": np.array([0.99, 0.95, 0.99, 0.97])}
    assert select_smallest_rank(cv, tol=0.05) == 1
    # Only when no numeric rank is within the tolerance does one of them win.
    assert select_smallest_rank(cv, tol=0.01) == 0
    masked = np.ma.masked_array([0, 4], mask=[True, False], dtype=object)
    cv = {"param_n_components": masked, "mean_test_score": np.array([0.99, 0.97])}
    assert select_smallest_rank(cv, tol=0.05) == 1
    assert select_smallest_rank(cv, tol=0.0) == 0


def test_pipeline_parameter_is_found_and_can_be_named():
    cv = results([2, 4], [0.9, 0.91], name="rrae__n_components")
    cv["param_clf__C"] = np.ma.masked_array([1.0, 0.1], dtype=object)
    assert select_smallest_rank(cv, tol=0.05) == 0
    assert select_smallest_rank(cv, tol=0.05, param="rrae__n_components") == 0
    # Any other parameter can serve as the "rank": the smallest C within the tolerance.
    assert select_smallest_rank(cv, tol=0.05, param="clf__C") == 1


def test_unclear_rank_parameter_raises():
    cv = results([2, 4], [0.9, 0.91], name="rrae__n_components")
    cv["param_pca__n_components"] = np.ma.masked_array([2, 4], dtype=object)
    with pytest.raises(ValueError, match="several"):
        select_smallest_rank(cv)
    with pytest.raises(ValueError, match="no searched parameter"):
        select_smallest_rank(results([2, 4], [0.9, 0.91], name="latent_dim"))
    with pytest.raises(ValueError, match="param='rank' is not a searched parameter"):
        select_smallest_rank(cv, param="rank")


def test_several_scores_need_a_name():
    cv = results([2, 4], [0.9, 0.91], scoring="accuracy")
    cv["mean_test_f1"] = np.array([0.5, 0.9])
    with pytest.raises(ValueError, match=r"scores it has are \['accuracy', 'f1'\]"):
        select_smallest_rank(cv)
    assert select_smallest_rank(cv, tol=0.05, scoring="accuracy") == 0
    assert select_smallest_rank(cv, tol=0.05, scoring="f1") == 1


@pytest.mark.parametrize("tol", [-0.1, np.nan, np.inf, "0.1", None, True])
def test_bad_tolerance_raises_at_once(tol):
    with pytest.raises(ValueError, match="'tol' parameter"):
        smallest_rank_refit(tol)
    with pytest.raises(ValueError, match="'tol' parameter"):
        select_smallest_rank(results([2], [0.9]), tol=tol)


def test_other_bad_input_raises():
    with pytest.raises(ValueError, match="'relative' parameter"):
        smallest_rank_refit(0.1, relative="yes")
    with pytest.raises(ValueError, match="cv_results_ dict"):
        select_smallest_rank([0.9, 0.8])
    cv = results([2, 4], [0.9, 0.91])
    cv["mean_test_score"] = cv["mean_test_score"][:1]
    with pytest.raises(ValueError, match="2 rank values for 1 scores"):
        select_smallest_rank(cv)


def test_input_is_not_modified():
    cv = results([4, 2], [0.9, np.nan])
    before = copy.deepcopy(cv)
    select_smallest_rank(cv, tol=0.1)
    np.testing.assert_array_equal(cv["mean_test_score"], before["mean_test_score"])
    assert list(cv["param_n_components"]) == list(before["param_n_components"])


# -- with a real search ----------------------------------------------------------------------------

TINY = dict(latent_dim=16, hidden_layer_sizes=(32,), max_epochs=3, batch_size=128, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[::2], y[::2]  # 899 images: enough for a 2-fold search, and fast


def brute_force(ranks, scores, tol):
    """The smallest rank within ``tol`` of the best, by enumeration."""
    within = [i for i in range(len(scores)) if scores[i] >= np.max(scores) - tol]
    return min(within, key=lambda i: (ranks[i], -scores[i], i))


def test_grid_search_with_rrae_pipeline_refits_the_smallest_good_rank(digits):
    X, y = digits
    pipe = Pipeline(
        [
            ("rrae", RRAETransformer(**TINY)),
            ("scale", StandardScaler()),
            ("clf", LogisticRegression()),
        ]
    )
    grid = {"rrae__n_components": [2, 4, 8]}
    tol = 0.05
    search = GridSearchCV(pipe, grid, cv=2, refit=smallest_rank_refit(tol)).fit(X, y)
    ranks = np.asarray(search.cv_results_["param_rrae__n_components"], dtype=float)
    scores = search.cv_results_["mean_test_score"]
    assert search.best_index_ == brute_force(ranks, scores, tol)
    chosen = search.best_params_["rrae__n_components"]
    assert search.best_estimator_.named_steps["rrae"].n_components_ == chosen
    assert search.predict(X[:5]).shape == (5,)
    # With no tolerance it is the plain search's choice, the best mean score.
    assert select_smallest_rank(search.cv_results_, tol=0.0) == int(np.argmax(scores))
    # The refit callable survives cloning and pickling with the search.
    assert pickle.loads(pickle.dumps(search)).best_index_ == search.best_index_


def test_grid_search_with_pca_and_several_scores(digits):
    X, y = digits
    pipe = Pipeline([("pca", PCA()), ("scale", StandardScaler()), ("clf", LogisticRegression())])
    scoring = {"acc": "accuracy", "bal": "balanced_accuracy"}
    tol = 0.03
    search = GridSearchCV(
        pipe,
        {"pca__n_components": [2, 5, 10, 20, 30]},
        cv=2,
        scoring=scoring,
        refit=smallest_rank_refit(tol, scoring="bal"),
    ).fit(X, y)
    ranks = np.asarray(search.cv_results_["param_pca__n_components"], dtype=float)
    scores = search.cv_results_["mean_test_bal"]
    assert search.best_index_ == brute_force(ranks, scores, tol)
    # Without the score's name the helper says which ones there are.
    with pytest.raises(ValueError, match=r"\['acc', 'bal'\]"):
        GridSearchCV(
            pipe, {"pca__n_components": [2, 5]}, cv=2, scoring=scoring, refit=smallest_rank_refit()
        ).fit(X, y)


def test_neg_reconstruction_mse_scores_pca_and_rrae_alike(X_small):
    pca = PCA(n_components=2).fit(X_small)
    expected = -np.mean((X_small - pca.inverse_transform(pca.transform(X_small))) ** 2)
    assert neg_reconstruction_mse(pca, X_small) == pytest.approx(expected, rel=1e-12)
    rrae = RRAETransformer(n_components=2, random_state=0, **FAST).fit(X_small)
    assert neg_reconstruction_mse(rrae, X_small) == pytest.approx(rrae.score(X_small), rel=1e-9)
    scores = cross_val_score(PCA(n_components=2), X_small, scoring=neg_reconstruction_mse, cv=3)
    assert scores.shape == (3,) and np.all(scores < 0)

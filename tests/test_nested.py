"""nested=True: one fit serves every rank; explained_variance_ratio_, at_rank and rank_curve."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer
from sklearn_rrae._explained_variance import pca_rank
from sklearn_rrae._truncation import nested_rank_truncate, nested_ranks, rank_truncate, rank_truncate_svd
from sklearn_rrae.model_selection import rank_curve, select_smallest_rank

from .conftest import FAST

SMALL = dict(latent_dim=16, hidden_layer_sizes=(32,), batch_size=100, device="cpu", random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:500], y[:500]


def _prefix_mse(model, X):
    codes = model.transform(X)
    return np.array(
        [np.mean((X - model.inverse_transform(codes[:, :r])) ** 2) for r in range(1, codes.shape[1] + 1)]
    )


# -- the truncation ------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(20, 8), (6, 10)])  # the latent's Gram matrix, the batch's
def test_nested_truncation_at_the_full_rank_is_the_rank_truncation(shape):
    Y = torch.randn(
        *shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True
    )
    G = torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    nested = nested_rank_truncate(Y, 3, torch.full((shape[0],), 3))
    plain = rank_truncate(Y, 3)
    torch.testing.assert_close(nested, plain)
    (g_nested,) = torch.autograd.grad((nested * G).sum(), Y)
    (g_plain,) = torch.autograd.grad((plain * G).sum(), Y)
    torch.testing.assert_close(g_nested, g_plain)


@pytest.mark.parametrize("shape", [(20, 8), (6, 10)])
def test_each_row_is_its_rank_r_approximation_and_the_gradient_is_exact(shape):
    gen = torch.Generator().manual_seed(0)
    Y = torch.randn(*shape, dtype=torch.float64, generator=gen, requires_grad=True)
    ranks = torch.randint(1, 4, (shape[0],), generator=gen)
    out = nested_rank_truncate(Y, 3, ranks)
    expected = torch.stack([rank_truncate_svd(Y, int(r))[i] for i, r in enumerate(ranks)])
    torch.testing.assert_close(out, expected)
    assert torch.autograd.gradcheck(lambda y: nested_rank_truncate(y, 3, ranks), (Y,))


def test_nested_truncation_gradient_is_finite_on_repeated_singular_values():
    Y = torch.zeros(12, 6, dtype=torch.float64)
    Y[:6, :2] = torch.eye(6, 2, dtype=torch.float64) * 3.0  # two equal kept singular values
    Y[6:, 2:] = 1e-3 * torch.eye(6, 4, dtype=torch.float64)  # four equal small ones, and zeros
    Y.requires_grad_()
    (grad,) = torch.autograd.grad(nested_rank_truncate(Y, 4).square().sum(), Y)
    assert torch.isfinite(grad).all()


def test_nested_ranks_give_the_full_rank_to_two_rows_in_three_and_every_smaller_rank_its_turn():
    ranks = nested_ranks(300, 5)
    assert (ranks == 5).sum() == 200
    assert sorted(torch.unique(ranks[ranks < 5]).tolist()) == [1, 2, 3, 4]
    assert (nested_ranks(7, 1) == 1).all()


# -- the estimator -------------------------------------------------------------------


def test_nested_fit_makes_the_first_codes_a_good_smaller_model(digits):
    X, _ = digits
    settings = dict(n_components=4, max_epochs=100, early_stopping=False, **SMALL)
    plain_mse = _prefix_mse(RRAETransformer(**settings).fit(X), X)
    nested_mse = _prefix_mse(RRAETransformer(nested=True, **settings).fit(X), X)
    # Trained at rank 4 only, the first code drifts away from PCA's first component
    # (17.05 against 15.65 here); nested, it stays there (15.66) and the second
    # prefix is better too (12.00 against 13.28).
    pca1 = PCA(1).fit(X)
    pca1_mse = np.mean((X - pca1.inverse_transform(pca1.transform(X))) ** 2)
    assert plain_mse[0] > 1.05 * pca1_mse
    assert nested_mse[0] < 1.01 * pca1_mse
    assert (nested_mse[:2] < 0.95 * plain_mse[:2]).all()


@pytest.mark.parametrize("nested", [False, True])
def test_explained_variance_ratio_is_pcas_definition_in_data_space(digits, nested):
    X, _ = digits
    model = RRAETransformer(n_components=3, max_epochs=5, nested=nested, **SMALL).fit(X)
    assert model.explained_variance_ratio_.shape == (3,)
    total = np.mean((X - X.mean(axis=0)) ** 2)
    np.testing.assert_allclose(
        np.cumsum(model.explained_variance_ratio_), 1 - _prefix_mse(model, X) / total, rtol=1e-4
    )


def test_explained_variance_ratio_of_pca_start_equals_pcas():
    X = np.random.RandomState(0).normal(size=(200, 6)) * np.arange(1, 7)
    # One epoch at a tiny learning rate: still PCA's solution.
    model = RRAETransformer(n_components=3, max_epochs=1, lr=1e-9, early_stopping=False, **SMALL).fit(X)
    np.testing.assert_allclose(
        model.explained_variance_ratio_, PCA(3).fit(X).explained_variance_ratio_, rtol=1e-4
    )


def test_explained_variance_ratio_elsewhere(digits):
    X, _ = digits
    assert RRAETransformer(n_components=None, **FAST).fit(X).explained_variance_ratio_ is None
    adaptive = AdaptiveRRAETransformer(**FAST).fit(X)
    assert adaptive.explained_variance_ratio_.shape == (adaptive.n_components_,)
    streamed = RRAETransformer(n_components=2, **FAST)
    for chunk in np.array_split(X, 2):
        streamed.partial_fit(chunk)
    assert streamed.explained_variance_ratio_.shape == (2,)
    assert 0 < streamed.explained_variance_ratio_.sum() < 1


def test_inverse_transform_decodes_fewer_codes_as_zeros(digits):
    X, _ = digits
    model = RRAETransformer(n_components=3, **FAST).fit(X)
    codes = model.transform(X[:20])
    padded = np.hstack([codes[:, :2], np.zeros((20, 1))])
    np.testing.assert_array_equal(model.inverse_transform(codes[:, :2]), model.inverse_transform(padded))
    with pytest.raises(ValueError, match="at most n_components_=3"):
        model.inverse_transform(np.zeros((2, 4)))


def test_at_rank_is_the_fitted_model_on_its_first_codes(digits):
    X, _ = digits
    model = RRAETransformer(n_components=3, nested=True, **FAST).fit(X)
    before = model.transform(X)
    small = model.at_rank(2)
    np.testing.assert_array_equal(small.transform(X), before[:, :2])
    np.testing.assert_array_equal(
        small.inverse_transform(before[:, :2]), model.inverse_transform(before[:, :2])
    )
    assert small.score(X) == pytest.approx(-_prefix_mse(model, X)[1])
    assert small.n_components_ == 2 and small.get_params()["n_components"] == 2
    assert small.components_.shape == (2, model.components_.shape[1])
    np.testing.assert_array_equal(small.explained_variance_ratio_, model.explained_variance_ratio_[:2])
    assert len(small.get_feature_names_out()) == 2
    np.testing.assert_array_equal(model.transform(X), before)  # the original is unchanged
    for bad in [0, 4, True, 2.0]:
        with pytest.raises(ValueError, match="'n_components' parameter of at_rank"):
            model.at_rank(bad)
    with pytest.raises(ValueError, match="n_components set"):
        RRAETransformer(n_components=None, **FAST).fit(X).at_rank(1)


# -- rank_curve ----------------------------------------------------------------------


def test_rank_curve_scores_every_rank_from_one_fit_per_fold(digits):
    X, _ = digits
    rrae = RRAETransformer(n_components=3, nested=True, random_state=0, **FAST)
    cv = KFold(3)
    curve = rank_curve(rrae, X, cv=cv)
    assert curve["ranks"].tolist() == [1, 2, 3]
    train, test = next(cv.split(X))
    fitted = RRAETransformer(n_components=3, nested=True, random_state=0, **FAST).fit(X[train])
    np.testing.assert_allclose(curve["split0_test_score"], -_prefix_mse(fitted, X[test]), rtol=1e-6)
    folds = np.array([curve[f"split{i}_test_score"] for i in range(3)])
    np.testing.assert_allclose(curve["mean_test_score"], folds.mean(axis=0))
    np.testing.assert_allclose(curve["std_test_score"], folds.std(axis=0))
    assert curve["fit_time"].shape == (3,)
    assert curve["ranks"][select_smallest_rank(curve, tol=0.0)] == 3


def test_rank_curve_fits_the_downstream_steps_once_per_rank(digits):
    X, y = digits
    pipe = make_pipeline(
        StandardScaler(),
        RRAETransformer(n_components=3, nested=True, random_state=0, **FAST),
        LogisticRegression(max_iter=300),
    )
    cv = KFold(2)
    curve = rank_curve(pipe, X, y, ranks=[1, 3], cv=cv)
    train, test = next(cv.split(X))
    head = make_pipeline(
        StandardScaler(), RRAETransformer(n_components=3, nested=True, random_state=0, **FAST)
    )
    head.fit(X[train])
    codes_train, codes_test = head.transform(X[train]), head.transform(X[test])
    expected = [
        LogisticRegression(max_iter=300).fit(codes_train[:, :r], y[train]).score(codes_test[:, :r], y[test])
        for r in (1, 3)
    ]
    np.testing.assert_allclose(curve["split0_test_score"], expected)
    assert "param_rraetransformer__n_components" in curve
    assert select_smallest_rank(curve, tol=1.0) == 0


def test_rank_curve_refuses_what_it_cannot_score(digits):
    X, y = digits
    with pytest.raises(TypeError, match="'estimator' parameter of rank_curve"):
        rank_curve(PCA(3), X)
    with pytest.raises(ValueError, match="no RRAE step"):
        rank_curve(make_pipeline(PCA(3), LogisticRegression()), X, y)
    with pytest.raises(ValueError, match="n_components set"):
        rank_curve(RRAETransformer(nested=True, **FAST), X)
    for ranks in [[0, 1], [1, 4], [2, 2], [1.5]]:
        with pytest.raises(ValueError, match="'ranks' parameter"):
            rank_curve(RRAETransformer(n_components=3, nested=True, **FAST), X, ranks=ranks)
    with pytest.raises(ValueError, match="needs the RRAE's nested=True"):
        rank_curve(RRAETransformer(n_components=2, **FAST), X[:200], cv=2)
    with pytest.raises(ValueError, match="needs the RRAE's nested=True"):
        rank_curve(make_pipeline(RRAETransformer(n_components=2, **FAST), LogisticRegression()), X, y)


def test_rank_curve_does_not_modify_its_input(digits):
    X, _ = digits
    X = X[:200].copy()
    before = X.copy()
    rank_curve(RRAETransformer(n_components=2, nested=True, **FAST), X, cv=2)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.95])
def test_pca_rank_is_pca_s_choice(fraction):
    X, _ = load_digits(return_X_y=True)
    assert pca_rank(X, fraction) == PCA(fraction).fit(X).n_components_
    wide = np.random.RandomState(0).normal(size=(30, 80)) * np.linspace(3, 0.1, 80)
    assert pca_rank(wide, fraction) == PCA(fraction).fit(wide).n_components_


def test_a_fraction_keeps_the_first_rank_of_the_nested_curve_that_explains_more():
    X, _ = load_digits(return_X_y=True)
    X = X[:400]
    fraction = 0.8
    top = PCA(fraction).fit(X).n_components_
    model = RRAETransformer(n_components=fraction, random_state=0, **FAST).fit(X)
    assert model.net_.module_.n_components == top  # trained at PCA's rank for the fraction
    assert model.net_.module_.truncation is nested_rank_truncate  # every rank trained
    r = model.n_components_
    cumulative = np.cumsum(model.explained_variance_ratio_)
    assert 1 <= r <= top and model.components_.shape[0] == r
    assert np.all(cumulative[:-1] <= fraction) and (cumulative[-1] > fraction or r == top)
    assert model.transform(X).shape == (len(X), r)
    assert model.sample(2, random_state=0).shape == (2, X.shape[1])
    # The same as the nested model at the top rank cut to that rank.
    nested = RRAETransformer(n_components=top, nested=True, random_state=0, **FAST).fit(X)
    np.testing.assert_array_equal(model.transform(X), nested.transform(X)[:, :r])


def test_a_fraction_refuses_partial_fit_and_bad_values(X_small):
    with pytest.raises(ValueError, match="fraction of the variance"):
        RRAETransformer(n_components=0.9, **FAST).partial_fit(X_small)
    for bad in (1.0, 1.5, -0.2):
        with pytest.raises(ValueError, match="n_components"):
            RRAETransformer(n_components=bad, **FAST).fit(X_small)


def test_a_fraction_warm_start_keeps_the_rank_its_net_was_trained_at():
    X, _ = load_digits(return_X_y=True)
    X = X[:400]
    model = RRAETransformer(n_components=0.8, warm_start=True, random_state=0, **FAST).fit(X)
    top = model.net_.module_.n_components
    model.fit(X[:300])  # another subset: PCA's rank for it may differ, the net's rank does not
    assert model.net_.module_.n_components == top
    assert model.n_iter_ == 2 * FAST["max_epochs"] and 1 <= model.n_components_ <= top

"""init="pca": the model starts as PCA; early stopping keeps the start unless training beats it."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.decomposition import PCA
from skorch.callbacks import Callback

from sklearn_rrae import AdaptiveRRAETransformer, LinearStartKeptWarning, RRAETransformer
from sklearn_rrae._callbacks import beats
from sklearn_rrae._linear_start import principal_axes
from sklearn_rrae._plan import plan_training
from sklearn_rrae._scaling import Scaling

from .conftest import FAST


def _pca_reconstruction(X, k):
    pca = PCA(n_components=k, svd_solver="full").fit(X)
    return pca.inverse_transform(pca.transform(X))


@pytest.mark.parametrize("shape", [(200, 12), (15, 40)])  # the feature Gram matrix, the row Gram matrix
def test_principal_axes_are_pcas_axes_in_model_units(shape):
    rng = np.random.RandomState(0)
    X = rng.normal(size=shape) * np.logspace(0, 3, shape[1]) + 50.0
    scaling = Scaling.of(X)
    axes = principal_axes(X, scaling, 4)
    expected = PCA(n_components=4, svd_solver="full").fit(scaling.to_model(X).astype(np.float64)).components_
    # Same subspace and, after svd_flip on both, the same signs.
    np.testing.assert_allclose(axes, expected, atol=1e-6)
    np.testing.assert_allclose(axes @ axes.T, np.eye(4), atol=1e-10)


def test_principal_axes_beyond_the_rank_are_zero():
    X = np.outer(np.arange(6.0), np.ones(20))  # rank 1 once centred, fewer rows than features
    axes = principal_axes(X, Scaling.of(X), 3)
    assert np.linalg.norm(axes[0]) == pytest.approx(1.0)
    np.testing.assert_array_equal(axes[1:], 0.0)


def test_the_pca_start_is_pcas_solution_on_raw_tabular_data():
    # Breast cancer, raw: feature variances from 1e-8 to 1e5. One epoch at a
    # learning rate that moves nothing: the model is its start, PCA's solution.
    X = load_breast_cancer().data
    model = RRAETransformer(
        n_components=5, init="pca", early_stopping=False, max_epochs=1, lr=1e-12, random_state=0
    ).fit(X)
    X_hat = model.inverse_transform(model.transform(X))
    pca_hat = _pca_reconstruction(X, 5)
    pca_mse = np.mean((X - pca_hat) ** 2)
    assert np.mean((X - X_hat) ** 2) == pytest.approx(pca_mse, rel=1e-4)
    # From random weights the same budget is nowhere near it.
    random = RRAETransformer(
        n_components=5, init="random", early_stopping=False, max_epochs=1, random_state=0
    )
    random_hat = random.fit(X).inverse_transform(random.transform(X))
    assert np.mean((X - random_hat) ** 2) > 100 * pca_mse


class _SpoilTheDecoder(Callback):
    """After every epoch, puts noise on the decoder's residual: training ends worse than its start."""

    def on_epoch_end(self, net, **kwargs):
        for parameter in net.module_.decoder.residual.parameters():
            parameter.data.normal_(std=1.0)


def _linear_plus_noise(n_rows=300):
    rng = np.random.RandomState(0)
    return rng.normal(size=(n_rows, 2)) @ rng.normal(size=(2, 8)) + 0.3 * rng.normal(size=(n_rows, 8))


def test_without_validation_the_training_rows_judge_the_start():
    X = _linear_plus_noise()
    model = RRAETransformer(
        n_components=2,
        early_stopping=False,
        callbacks=[("spoil", _SpoilTheDecoder())],
        random_state=0,
        **FAST,
    )
    with pytest.warns(LinearStartKeptWarning, match="on the training rows"):
        model.fit(X)
    assert model.start_kept_ and model.net_.history[-1, "start_kept"]
    assert model.validation_scores_ is None  # no validation rows were involved
    np.testing.assert_allclose(
        model.inverse_transform(model.transform(X)), _pca_reconstruction(X, 2), atol=1e-4
    )
    # Points on a circle, where the network has something to learn: it trains past
    # its start, silently.
    rng = np.random.RandomState(0)
    t = rng.uniform(0, 2 * np.pi, size=400)
    circle = np.c_[np.cos(t), np.sin(t), np.cos(t) ** 2] @ rng.normal(size=(3, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("error", LinearStartKeptWarning)
        trained = RRAETransformer(
            n_components=1, early_stopping=False, random_state=0, **{**FAST, "max_epochs": 30}
        ).fit(circle)
    assert not trained.start_kept_ and not trained.net_.history[-1, "start_kept"]
    assert -trained.score(circle) < np.mean((circle - _pca_reconstruction(circle, 1)) ** 2)


def test_the_training_rows_check_decides_once_after_n_init_starts():
    # n_init's trial calls end before training does: only the last call decides.
    X = _linear_plus_noise()
    model = RRAETransformer(
        n_components=2,
        n_init=2,
        early_stopping=False,
        callbacks=[("spoil", _SpoilTheDecoder())],
        random_state=0,
        **{**FAST, "max_epochs": 10},
    )
    with pytest.warns(LinearStartKeptWarning, match="on the training rows"):
        model.fit(X)
    decided = [row["start_kept"] for row in model.net_.history if "start_kept" in row]
    assert decided == [True] and "start_kept" in model.net_.history[-1]
    np.testing.assert_allclose(
        model.inverse_transform(model.transform(X)), _pca_reconstruction(X, 2), atol=1e-4
    )


def test_partial_fit_and_the_adaptive_rank_have_no_training_rows_check():
    X = _linear_plus_noise()
    streamed = RRAETransformer(
        n_components=2, callbacks=[("spoil", _SpoilTheDecoder())], random_state=0, **FAST
    )
    for _ in range(FAST["max_epochs"] + 1):
        streamed.partial_fit(X)
    assert not any("start_kept" in row for row in streamed.net_.history) and not streamed.start_kept_
    adaptive = AdaptiveRRAETransformer(
        max_components=4, init="pca", early_stopping=False, random_state=0, **FAST
    ).fit(X)
    assert not any("start_kept" in row for row in adaptive.net_.history) and not adaptive.start_kept_


def test_linear_data_keeps_the_start_and_says_so():
    # A linear subspace plus noise: there is nothing nonlinear to learn, so no
    # trained epoch beats the start beyond noise, and the model ends as PCA.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 2)) @ rng.normal(size=(2, 8)) + 0.3 * rng.normal(size=(300, 8))
    model = RRAETransformer(n_components=2, random_state=0, **{**FAST, "max_epochs": 30})
    with pytest.warns(LinearStartKeptWarning, match="no nonlinear structure"):
        model.fit(X)
    assert model.best_validation_score_ == model.start_validation_score_
    assert model.best_validation_score_ >= max(model.validation_scores_)
    np.testing.assert_allclose(
        model.inverse_transform(model.transform(X)), _pca_reconstruction(X, 2), atol=1e-4
    )


def test_nonlinear_data_trains_past_the_start_without_a_warning():
    # Points on a circle: PCA at rank 1 keeps a diameter, the RRAE learns the circle.
    rng = np.random.RandomState(0)
    t = rng.uniform(0, 2 * np.pi, size=400)
    X = np.c_[np.cos(t), np.sin(t), np.cos(t) ** 2] @ rng.normal(size=(3, 6))
    model = RRAETransformer(n_components=1, random_state=0, latent_dim=16, hidden_layer_sizes=(64, 64))
    with warnings.catch_warnings():
        warnings.simplefilter("error", LinearStartKeptWarning)
        model.fit(X)
    assert model.best_validation_score_ > model.start_validation_score_
    assert -model.score(X) < 0.5 * np.mean((X - _pca_reconstruction(X, 1)) ** 2)


def test_beats_needs_a_difference_beyond_noise():
    reference = np.ones(50)
    assert beats(reference - 0.1, reference)
    rng = np.random.RandomState(0)
    noisy = reference + rng.normal(scale=1.0, size=50)
    assert not beats(noisy - 0.01, reference)


def test_init_auto_starts_as_pca_only_for_the_built_in_mlp_with_a_rank(X_small):
    def axes(**params):
        model = RRAETransformer(random_state=0, **{**FAST, "max_epochs": 1, **params}).fit(X_small)
        return getattr(model.module_.encoder, "axes", None)

    assert axes(n_components=2).shape == (2, X_small.shape[1])
    assert axes(n_components=2, init="random") is None
    assert axes(n_components=None) is None
    assert axes(n_components=2, architecture="cnn", input_shape=(1, -1)) is None
    # The adaptive estimator's "auto" is "random"; "pca" starts it on max_components axes.
    adaptive = AdaptiveRRAETransformer(max_components=3, random_state=0, **FAST)
    assert not hasattr(adaptive.fit(X_small).module_.encoder, "axes")
    assert adaptive.set_params(init="pca").fit(X_small).module_.encoder.axes.shape == (3, X_small.shape[1])


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(n_components=2, architecture="cnn", input_shape=(1, -1)), "init='pca' starts the built-in MLP"),
        (dict(n_components=None), "init='pca' needs a rank"),
    ],
)
def test_init_pca_where_it_does_not_apply_is_refused(X_small, params, message):
    with pytest.raises(ValueError, match=message):
        RRAETransformer(init="pca", **{**FAST, **params}).fit(X_small)


def test_early_stopping_auto_follows_the_number_of_validation_rows():
    X = np.random.RandomState(0).normal(size=(100, 5))  # 10 validation rows: just enough
    params = dict(n_components=2, random_state=0, **FAST)
    with pytest.warns(LinearStartKeptWarning):  # noise: nothing to learn beyond PCA
        model = RRAETransformer(**params).fit(X)
    assert len(model.validation_scores_) == model.n_iter_ and model.start_validation_score_ is not None
    model = RRAETransformer(**params).fit(X[:90])  # 9 validation rows: too few to judge by
    assert model.validation_scores_ is None and model.start_validation_score_ is None


def test_early_stopping_auto_validates_large_data_too():
    # Up to 2026-12-07 every row trained above 10,000 rows; wine's 124 source rows
    # resampled with jitter to 14,000 then ended at 1.007 x PCA's held-out MSE.
    plan = plan_training(
        RRAETransformer(n_components=2).get_params(), {}, "RRAETransformer", 50_000, 5, lambda n, p: 2
    )
    assert len(plan.valid_rows) == 5_000 and len(plan.train_rows) == 45_000
    assert plan.decoder_epochs == 10  # the decoder stage (above 10,000 rows), validated too


@pytest.mark.parametrize("n_epochs, patience", [(20, 10), (100, 25), (1000, 250)])
def test_n_iter_no_change_auto_is_a_quarter_of_the_epochs(n_epochs, patience):
    params = RRAETransformer(n_components=2, max_epochs=n_epochs).get_params()
    plan = plan_training(params, {}, "RRAETransformer", 100, 5, lambda n, p: 2)
    assert plan.patience == patience
    assert (
        plan_training(
            {**params, "n_iter_no_change": 3}, {}, "RRAETransformer", 100, 5, lambda n, p: 2
        ).patience
        == 3
    )


def test_warm_start_and_partial_fit_continue_from_the_pca_start(X_small):
    model = RRAETransformer(n_components=2, random_state=0, warm_start=True, **FAST).fit(X_small)
    axes = model.module_.encoder.axes.clone()
    model.set_params(n_components=3).fit(X_small[:40])  # the first fit's axes stay
    np.testing.assert_array_equal(model.module_.encoder.axes, axes)
    assert model.n_components_ == 3
    streamed = RRAETransformer(n_components=2, random_state=0, **FAST)
    for chunk in np.array_split(X_small, 3):
        streamed.partial_fit(chunk)
    assert streamed.module_.encoder.axes.shape == (2, X_small.shape[1])
    assert np.isfinite(streamed.transform(X_small)).all()


def test_a_warm_start_that_beats_nothing_leaves_the_fit_as_it_was():
    # A warm start scores the model it continues from as its start. Keeping a trained
    # model is not keeping the PCA start: no warning, start_kept_ stays False.
    t = np.random.RandomState(0).uniform(0, 3, size=300)
    X = np.stack([np.sin(t * f) for f in (1, 2, 3)] + [np.cos(t * f) for f in (1, 2, 3)], axis=1)
    params = dict(n_components=1, latent_dim=16, hidden_layer_sizes=(32,), batch_size=64, max_epochs=100)
    trained = RRAETransformer(early_stopping=True, random_state=2, **params).fit(X)
    assert not trained.start_kept_  # this seed trains past its start
    codes = trained.transform(X)
    trained.set_params(warm_start=True, lr=1e-12, max_epochs=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", LinearStartKeptWarning)
        trained.fit(X)
    assert not trained.start_kept_
    assert trained.best_validation_score_ == trained.start_validation_score_  # nothing beat it
    np.testing.assert_allclose(trained.transform(X), codes, rtol=1e-6, atol=1e-6)
    # A fit that ended at its PCA start is still PCA's after such a warm start, and says so.
    with pytest.warns(LinearStartKeptWarning):
        kept = RRAETransformer(early_stopping=True, random_state=1, **params).fit(X)
    kept.set_params(warm_start=True, lr=1e-12, max_epochs=5)
    with pytest.warns(LinearStartKeptWarning):
        kept.fit(X)
    assert kept.start_kept_


def test_n_init_keeps_the_start_a_candidate_across_its_calls():
    # n_init trains the kept start in two calls; the early stopping's record of
    # the PCA start and of the best epoch carries over from the first call.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 2)) @ rng.normal(size=(2, 8)) + 0.3 * rng.normal(size=(300, 8))
    model = RRAETransformer(n_components=2, n_init=2, random_state=0, **{**FAST, "max_epochs": 20})
    with pytest.warns(LinearStartKeptWarning):
        model.fit(X)
    assert model.net_.history[0, "start_valid_mse"] == -model.start_validation_score_
    assert model.net_.history[-1, "best_epoch"] == 0
    np.testing.assert_allclose(
        model.inverse_transform(model.transform(X)), _pca_reconstruction(X, 2), atol=1e-4
    )


def test_more_rows_than_the_check_samples_with_a_validation_split():
    # 5,600 rows: more than the 5,000 the training-rows check scores, and a validation split
    # leaves 5,040 to train on. The check's rows must be drawn from those, not from X
    # (a fit of USPS's 7,291 images raised an IndexError).
    X = np.random.RandomState(0).normal(size=(5_600, 3))
    model = RRAETransformer(n_components=1, random_state=0, **{**FAST, "max_epochs": 1, "batch_size": 512})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LinearStartKeptWarning)
        model.fit(X)
    assert model.validation_scores_ is not None and np.isfinite(model.transform(X)).all()

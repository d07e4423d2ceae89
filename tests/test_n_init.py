"""n_init: several training starts, the one whose codes fold the data least is kept."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_rrae import RRAETransformer, _restarts
from sklearn_rrae._data import DeviceRows

from .conftest import FAST


def test_n_init_one_is_the_plain_fit(X_small):
    model = RRAETransformer(n_components=2, random_state=0, **FAST).fit(X_small)
    assert model.init_scores_ is None
    assert model.n_iter_ == FAST["max_epochs"]


def test_n_init_records_one_score_per_start_and_trains_the_full_budget(X_small):
    model = RRAETransformer(n_components=2, n_init=3, random_state=0, **FAST).fit(X_small)
    assert model.init_scores_.shape == (3,)
    assert np.all((model.init_scores_ > 0) & (model.init_scores_ <= 1))
    assert model.n_iter_ == FAST["max_epochs"]
    assert len(model.loss_curve_) == FAST["max_epochs"]


def test_n_init_is_reproducible(X_small):
    params = dict(n_components=2, n_init=3, random_state=0, **FAST)
    a = RRAETransformer(**params).fit(X_small)
    b = RRAETransformer(**params).fit(X_small)
    assert_array_equal(a.init_scores_, b.init_scores_)
    # The loss curves too: these fits end at their PCA start, whose codes alone would
    # be equal whatever training did.
    assert a.loss_curve_ == b.loss_curve_
    assert_array_equal(a.transform(X_small), b.transform(X_small))


def test_n_init_keeps_the_start_with_the_highest_score(X_small, monkeypatch):
    """Scores are forced, so the test knows which start must be kept."""
    forced = iter([0.2, 0.9, 0.5])
    scored = []

    def fake_score(module, data, seed):
        scored.append(module)
        return next(forced)

    monkeypatch.setattr(_restarts, "code_trustworthiness", fake_score)
    model = RRAETransformer(n_components=2, n_init=3, random_state=0, **FAST).fit(X_small)
    assert_array_equal(model.init_scores_, [0.2, 0.9, 0.5])
    assert model.module_ is scored[1]
    assert len({id(module) for module in scored}) == 3


def test_first_start_matches_n_init_one(X_small, monkeypatch):
    """When the first start wins, the model is the n_init=1 model."""
    forced = iter([1.0, 0.0, 0.0])
    monkeypatch.setattr(_restarts, "code_trustworthiness", lambda module, data, seed: next(forced))
    params = dict(n_components=2, random_state=0, **FAST)
    single = RRAETransformer(**params).fit(X_small)
    multi = RRAETransformer(n_init=3, **params).fit(X_small)
    assert_allclose(multi.loss_curve_, single.loss_curve_, rtol=1e-5)  # the same training, too
    assert_allclose(multi.transform(X_small), single.transform(X_small), rtol=1e-5, atol=1e-6)


class _Fold(torch.nn.Module):
    """Encodes x and -x alike: a fold of the data."""

    def __init__(self, n_features, latent_dim):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, latent_dim)

    def forward(self, X):
        return self.linear(X.abs())


def test_trustworthiness_score_ranks_a_folding_encoder_lower():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 2)) @ rng.normal(size=(2, 6))
    scores = {}
    for name, encoder in {"linear": None, "fold": _Fold}.items():
        model = RRAETransformer(n_components=2, encoder=encoder, random_state=0, **FAST)
        model.fit(X)
        data = DeviceRows(torch.from_numpy(model._scaling.to_model(X)))
        scores[name] = _restarts.code_trustworthiness(model.module_, data, seed=0)
    assert scores["fold"] < scores["linear"] - 0.05


def test_warm_start_ignores_n_init(X_small):
    model = RRAETransformer(n_components=2, n_init=2, warm_start=True, random_state=0, **FAST)
    model.fit(X_small)
    assert model.init_scores_.shape == (2,)
    model.fit(X_small)
    assert model.init_scores_ is None
    assert model.n_iter_ == 2 * FAST["max_epochs"]


def test_n_init_with_early_stopping(X_small):
    model = RRAETransformer(n_components=2, n_init=2, early_stopping=True, random_state=0, **FAST)
    model.fit(X_small)
    assert model.init_scores_.shape == (2,)
    assert np.isfinite(model.transform(X_small)).all()


@pytest.mark.parametrize("n_init", [0, -1, 1.5, "3"])
def test_bad_n_init(X_small, n_init):
    with pytest.raises(ValueError, match="n_init"):
        RRAETransformer(n_components=2, n_init=n_init, **FAST).fit(X_small)


def test_partial_fit_trains_one_start(X_small):
    model = RRAETransformer(n_components=2, n_init=3, random_state=0, **FAST)
    model.partial_fit(X_small)
    assert model.init_scores_ is None
    assert model.n_iter_ == 1


def test_adaptive_estimator_has_no_starts_attribute(X_small):
    from sklearn_rrae import AdaptiveRRAETransformer

    model = AdaptiveRRAETransformer(**FAST).fit(X_small)
    assert not hasattr(model, "init_scores_")

"""AdaptiveRRAETransformer: the rank is found during training."""

import inspect
import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback

from sklearn_rrae import AdaptiveRRAETransformer, RankSchedule, RRAETransformer

from .conftest import FAST

SMALL = dict(latent_dim=16, hidden_layer_sizes=(32,), batch_size=100, max_epochs=200)


def low_dimensional(d, seed, n_samples=300, n_features=20):
    """A d-dimensional smooth manifold in R^20: tanh of a random rank-d linear map."""
    rng = np.random.RandomState(seed)
    return np.tanh(rng.normal(size=(n_samples, d)) @ rng.normal(size=(d, n_features)) * 0.5)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_finds_the_known_rank(d):
    X = low_dimensional(d, seed=d)
    model = AdaptiveRRAETransformer(max_components=8, random_state=0, **SMALL).fit(X)
    assert model.n_components_ == d
    assert model.transform(X).shape == (len(X), d)
    assert model.components_.shape == (d, SMALL["latent_dim"])


def test_history_is_consistent_with_the_final_model():
    X = low_dimensional(2, seed=2)
    model = AdaptiveRRAETransformer(max_components=8, random_state=0, **SMALL).fit(X)
    history = model.rank_history_
    epochs = [e for e, _, _ in history]
    ranks = [r for _, r, _ in history]
    assert history[0][:2] == (0, 8) and math.isnan(history[0][2])
    assert epochs == sorted(epochs) and epochs[-1] <= model.n_iter_
    assert ranks[-1] == model.n_components_ == model.module_.n_components
    # It went below the rank it kept, and came back (the rank that could not
    # recover the accuracy), with the loss that decided each change recorded.
    assert min(ranks) < model.n_components_
    assert all(np.isfinite(loss) and loss > 0 for _, _, loss in history[1:])
    assert 0 < model.target_loss_ < np.var(X, axis=0).mean()
    # Every accepted rank reached the target: the losses that triggered a
    # pruning (a rank strictly below the previous one) are at most the target.
    for (_, previous, _), (_, rank, loss) in zip(history[1:], history[2:], strict=False):
        if rank < previous:
            assert loss <= model.target_loss_ * (1 + 1e-6)
    assert model.n_iter_ <= SMALL["max_epochs"]


def test_schedule_composes_with_other_callbacks():
    class RankSpy(Callback):
        def initialize(self):
            self.ranks = []
            return self

        def on_epoch_end(self, net, **kwargs):
            self.ranks.append(net.module_.n_components)

    spy = RankSpy()
    X = low_dimensional(2, seed=2)
    model = AdaptiveRRAETransformer(max_components=8, callbacks=[spy], random_state=0, **SMALL).fit(X)
    assert len(spy.ranks) == model.n_iter_
    assert spy.ranks[0] == 8 and spy.ranks[-1] == model.n_components_
    assert isinstance(dict(model.net_.callbacks_)["rank_schedule"], RankSchedule)


def test_auto_start_rank_is_capped_by_latent_batch_and_features():
    X = low_dimensional(1, seed=0, n_samples=12, n_features=6)
    model = AdaptiveRRAETransformer(latent_dim=16, hidden_layer_sizes=(8,), max_epochs=3).fit(X)
    assert model.rank_history_[0][1] == min(64, 16, 12 - 1, 6)


def test_max_components_is_validated():
    X = low_dimensional(1, seed=0)
    with pytest.raises(ValueError, match="max_components=32 must be <= latent_dim=16"):
        AdaptiveRRAETransformer(max_components=32, **SMALL).fit(X)
    with pytest.raises(ValueError, match="max_components"):
        AdaptiveRRAETransformer(max_components=0, **SMALL).fit(X)


def test_reproducible(X_small):
    a = AdaptiveRRAETransformer(random_state=3, latent_dim=8, hidden_layer_sizes=(16,), max_epochs=30)
    b = AdaptiveRRAETransformer(random_state=3, latent_dim=8, hidden_layer_sizes=(16,), max_epochs=30)
    np.testing.assert_array_equal(a.fit_transform(X_small), b.fit_transform(X_small))
    np.testing.assert_equal(a.rank_history_, b.rank_history_)  # NaN-aware


@pytest.mark.parametrize("estimator", [RRAETransformer, AdaptiveRRAETransformer])
def test_public_signatures_repeat_the_base_parameters(estimator):
    # scikit-learn reads parameters from each class's own __init__, so the shared
    # ones are spelled out in every estimator: they must not drift from the base.
    from sklearn_rrae._base import BaseRRAE

    base = dict(inspect.signature(BaseRRAE.__init__).parameters)
    own = dict(inspect.signature(estimator.__init__).parameters)
    assert {name: p for name, p in own.items() if name in base} == base
    own_only = {
        RRAETransformer: {"n_components", "n_init", "nested"},
        AdaptiveRRAETransformer: {"max_components"},
    }
    assert set(own) - set(base) == own_only[estimator]


def test_a_budget_below_auto_warns_that_the_rank_may_be_too_low(X_small):
    # The target is the start rank's loss when the start phase ends: on a quarter of a
    # short budget that loss is still falling, every rank reaches the target, and the
    # rank found is too low (the digits: 6 at 60 epochs, 12 at "auto").
    params = dict(max_components=4, random_state=0, early_stopping=False, latent_dim=16, batch_size=32)
    with pytest.warns(ConvergenceWarning, match="raise max_epochs") as record:
        AdaptiveRRAETransformer(max_epochs=8, hidden_layer_sizes=(32,), **params).fit(X_small)
    assert record[0].filename == __file__  # it points at the caller's fit
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        AdaptiveRRAETransformer(hidden_layer_sizes=(8,), **params).fit(X_small)  # "auto": 1000 epochs


def test_a_start_that_stagnates_is_trusted_whatever_the_budget(X_small, monkeypatch):
    monkeypatch.setattr(RankSchedule, "_stagnating", lambda self: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        AdaptiveRRAETransformer(max_components=4, random_state=0, **{**FAST, "max_epochs": 8}).fit(X_small)

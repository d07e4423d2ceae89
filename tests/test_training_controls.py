"""Training controls shared with MLPRegressor and skorch: early stopping, warm start, progress bar."""

import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer
from sklearn_rrae._callbacks import best_weights

from .conftest import FAST


def test_no_early_stopping_by_default(X_small):
    est = RRAETransformer(n_components=2, random_state=0, **FAST).fit(X_small)
    assert est.validation_scores_ is None and est.best_validation_score_ is None
    assert "valid_loss" not in est.net_.history[-1]
    assert est.n_iter_ == len(est.loss_curve_) == FAST["max_epochs"]


def test_early_stopping_stops_and_restores_the_best_weights(X_small):
    # A tol larger than any possible gain: only the first epoch counts as an
    # improvement, so training stops n_iter_no_change epochs later and goes back
    # to the weights of epoch 1.
    params = dict(
        n_components=2, random_state=0, early_stopping=True, init="random", **{**FAST, "max_epochs": 50}
    )
    est = RRAETransformer(n_iter_no_change=2, tol=1e6, **params).fit(X_small)
    assert est.n_iter_ == 3 == len(est.loss_curve_) == len(est.validation_scores_)
    assert est.best_validation_score_ == est.validation_scores_[0]
    assert all(score < 0 for score in est.validation_scores_)
    # The same seed gives the same split and the same first epoch: the restored
    # model is the one-epoch model, whose basis is built from the same data.
    one_epoch = RRAETransformer(**{**params, "max_epochs": 1}).fit(X_small)
    np.testing.assert_array_equal(est.transform(X_small), one_epoch.transform(X_small))


class _ValidatedWeights(Callback):
    """The module's weights at each epoch's end: those the early stopping judged."""

    def initialize(self):
        self.weights = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.weights.append({k: t.detach().clone() for k, t in net.module_.state_dict().items()})


def test_early_stopping_ends_with_the_weights_of_its_best_of_several_improvements(X_small):
    # The best weights are copied into the same tensors at every improvement
    # (callbacks.best_weights): the fit must still end with those of the best epoch,
    # not of a later improvement or of the last epoch.
    recorder = _ValidatedWeights()
    est = RRAETransformer(
        n_components=2,
        random_state=0,
        early_stopping=True,
        init="random",
        n_iter_no_change=3,
        lr=0.03,
        callbacks=[("validated", recorder)],
        **{**FAST, "max_epochs": 60, "batch_size": 8},
    ).fit(X_small)
    best = est.net_.history[-1, "best_epoch"]
    scores = est.validation_scores_
    improvements = sum(score > max(scores[:i], default=-np.inf) for i, score in enumerate(scores))
    assert improvements >= 3 and 1 < best < est.n_iter_
    final = est.module_.state_dict()
    for name, expected in recorder.weights[best - 1].items():
        if name != "basis":  # stored after training
            torch.testing.assert_close(final[name], expected, rtol=0, atol=0)


def test_best_weights_reuses_its_tensors_but_never_the_start_s():
    module = torch.nn.Linear(3, 2)
    start = best_weights(module, None)
    first = best_weights(module, start, start)
    assert first is not start  # the start's copy is still needed
    with torch.no_grad():
        module.weight.add_(1.0)
    second = best_weights(module, first, start)
    assert second is first and torch.equal(second["weight"], module.weight)
    assert not torch.equal(start["weight"], module.weight)
    assert second["weight"].data_ptr() != module.weight.data_ptr()  # a copy, not the module's tensor
    wider = torch.nn.Linear(4, 2)
    assert best_weights(wider, second, start)["weight"].shape == (2, 4)


def test_validation_scores_are_held_out_reconstruction_scores(X_small):
    est = RRAETransformer(n_components=2, random_state=0, early_stopping=True, init="random", **FAST).fit(
        X_small
    )
    scale2 = est._scaling.loss_to_data_units
    expected = [-loss * scale2 for loss in est.net_.history[:, "valid_loss"]]
    np.testing.assert_allclose(est.validation_scores_, expected, rtol=1e-12)
    assert est.best_validation_score_ == max(est.validation_scores_)
    # 10 % of 60 samples held out: the training batches hold the other 54.
    assert est.net_.history[-1, "batches", 0, "train_batch_size"] == FAST["batch_size"]
    n_train = sum(b["train_batch_size"] for b in est.net_.history[-1, "batches"] if "train_batch_size" in b)
    assert n_train == 54


def test_early_stopping_is_reproducible_and_the_net_keeps_no_data(X_small):
    params = dict(n_components=2, random_state=3, early_stopping=True, validation_fraction=0.2, **FAST)
    a = RRAETransformer(**params).fit(X_small)
    b = RRAETransformer(**params).fit(X_small)
    assert a.validation_scores_ == b.validation_scores_
    np.testing.assert_array_equal(a.transform(X_small), b.transform(X_small))
    # The validation rows are not kept with the fitted net: the pickle is as
    # large with early stopping as without.
    X = np.tile(X_small, (20, 1))  # 48 kB of float32 data, about 4 times the weights
    with_split = RRAETransformer(**params).fit(X)
    without = RRAETransformer(**{**params, "early_stopping": False}).fit(X)
    assert with_split.net_.train_split is None
    assert abs(len(pickle.dumps(with_split)) - len(pickle.dumps(without))) < 0.1 * X.nbytes


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(validation_fraction=0.0), "validation_fraction"),
        (dict(validation_fraction=1.0), "validation_fraction"),
        (dict(n_iter_no_change=0), "n_iter_no_change"),
        (dict(tol=-1.0), "tol"),
        (dict(early_stopping="yes"), "early_stopping"),
        (dict(warm_start=1), "warm_start"),
    ],
)
def test_bad_training_controls_name_themselves(X_small, params, name):
    with pytest.raises(ValueError, match=name):
        RRAETransformer(n_components=2, **params, **FAST).fit(X_small)


def test_validation_fraction_that_leaves_too_little_to_train():
    X = np.random.RandomState(0).normal(size=(6, 4))
    est = RRAETransformer(n_components=3, early_stopping=True, validation_fraction=0.5, **FAST)
    with pytest.raises(ValueError, match="validation_fraction=0.5 leaves 3 training samples"):
        est.fit(X)


def test_warm_start_continues_weights_and_optimizer_state(X_small):
    est = RRAETransformer(n_components=2, random_state=0, warm_start=True, **FAST).fit(X_small)
    codes = est.transform(X_small)
    steps_per_epoch = 2  # 60 samples, batches of 32
    # With a vanishing learning rate the second fit cannot move the weights: the
    # model (weights, and the basis rebuilt from the same data) is unchanged.
    est.set_params(lr=1e-30, max_epochs=2).fit(X_small)
    np.testing.assert_allclose(est.transform(X_small), codes, rtol=1e-5, atol=1e-6)
    assert est.n_iter_ == FAST["max_epochs"] + 2 == len(est.loss_curve_)
    group = est.net_.optimizer_.param_groups[0]
    assert group["lr"] == 1e-30  # current hyperparameters, carried-over state
    state = est.net_.optimizer_.state[group["params"][0]]
    assert int(state["step"]) == steps_per_epoch * (FAST["max_epochs"] + 2)


def test_warm_start_trains_on_from_where_it_stopped(X_small):
    # From random weights, whose first epoch is far from the end of the first fit.
    params = dict(n_components=2, random_state=0, init="random", **{**FAST, "max_epochs": 20})
    cold = RRAETransformer(**params).fit(X_small)
    warm = RRAETransformer(warm_start=True, **params)
    warm.fit(X_small).fit(X_small)
    assert warm.loss_curve_[:20] == cold.loss_curve_  # the first fit is the cold one
    assert warm.loss_curve_[20] < 0.7 * cold.loss_curve_[0]
    assert warm.score(X_small) > cold.score(X_small)


def test_warm_start_off_starts_over(X_small):
    est = RRAETransformer(n_components=2, random_state=0, **FAST)
    first = est.fit(X_small).transform(X_small)
    np.testing.assert_array_equal(est.fit(X_small).transform(X_small), first)
    assert est.n_iter_ == FAST["max_epochs"]


def test_warm_start_refuses_a_changed_architecture_or_width(X_small):
    est = RRAETransformer(n_components=2, random_state=0, warm_start=True, **FAST).fit(X_small)
    with pytest.raises(ValueError, match="architecture"):
        est.set_params(latent_dim=8).fit(X_small)
    est.set_params(latent_dim=FAST["latent_dim"])
    with pytest.raises(ValueError, match="features"):
        est.fit(X_small[:, :5])


def test_warm_start_may_change_the_rank(X_small):
    est = RRAETransformer(n_components=2, random_state=0, warm_start=True, **FAST).fit(X_small)
    est.set_params(n_components=3).fit(X_small)
    assert est.transform(X_small).shape == (len(X_small), 3)


def test_verbose_shows_skorch_progress_bar(X_small, capsys):
    est = RRAETransformer(n_components=2, verbose=1, random_state=0, **FAST).fit(X_small)
    assert "progress_bar" in dict(est.net_.callbacks_)
    assert "it/s" in capsys.readouterr().err  # tqdm's bar, on stderr
    quiet = RRAETransformer(n_components=2, random_state=0, **FAST).fit(X_small)
    assert "progress_bar" not in dict(quiet.net_.callbacks_)
    pickle.loads(pickle.dumps(est))


def test_adaptive_early_stopping_counts_only_the_final_rank():
    rng = np.random.RandomState(2)
    X = np.tanh(rng.normal(size=(300, 2)) @ rng.normal(size=(2, 20)) * 0.5)
    model = AdaptiveRRAETransformer(
        max_components=8,
        latent_dim=16,
        hidden_layer_sizes=(32,),
        batch_size=100,
        max_epochs=200,
        early_stopping=True,
        n_iter_no_change=5,
        random_state=0,
    ).fit(X)
    stop = dict(model.net_.callbacks_)["early_stopping"]
    final_since = model.rank_history_[-1][0]  # epoch in which the final rank was set
    # Measured: ranks 8 -> 1, back to 2 at epoch 84, best epoch 89, stopped at 94.
    assert final_since <= stop.best_epoch_ < model.n_iter_ < 200
    assert model.n_components_ == 2
    assert len(model.validation_scores_) == model.n_iter_
    assert model.module_.n_components == model.n_components_
    assert np.isfinite(model.best_validation_score_)

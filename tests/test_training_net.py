"""The training loop: skorch's, with the batch losses read once per epoch."""

from unittest import mock

import numpy as np
import pytest
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, LRScheduler

from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer, _net
from sklearn_rrae._data import BatchIterator
from sklearn_rrae._training_net import TrainingNet

FAST = dict(latent_dim=8, hidden_layer_sizes=(16,), max_epochs=4, batch_size=16, random_state=0)


@pytest.fixture
def X():
    return np.random.default_rng(0).standard_normal((80, 6))


def _fit(estimator, X, loop):
    """Fit with the package's loop, or with skorch's ``NeuralNet`` in its place."""
    if loop == "skorch":
        with mock.patch.object(_net, "TrainingNet", NeuralNet):
            return estimator.fit(X)
    return estimator.fit(X)


def _batches(estimator):
    return [row["batches"] for row in estimator.net_.history]


@pytest.mark.parametrize(
    "make",
    [
        lambda: RRAETransformer(n_components=2, early_stopping=False, **FAST),
        lambda: RRAETransformer(n_components=2, early_stopping=True, **FAST),  # validation batches too
        lambda: AdaptiveRRAETransformer(**FAST),  # its schedule reads every batch's loss
    ],
)
def test_the_history_and_the_model_are_those_of_skorchs_loop(X, make):
    ours, skorchs = _fit(make(), X, "ours"), _fit(make(), X, "skorch")
    assert type(ours.net_) is TrainingNet and type(skorchs.net_) is NeuralNet
    assert _batches(ours) == _batches(skorchs)
    for key in ("train_loss", "valid_loss"):
        assert [row.get(key) for row in ours.net_.history] == [row.get(key) for row in skorchs.net_.history]
    np.testing.assert_array_equal(ours.loss_curve_, skorchs.loss_curve_)
    np.testing.assert_array_equal(ours.transform(X), skorchs.transform(X))


def test_the_losses_buffer_grows_when_an_epoch_has_more_batches_than_announced(X):
    # The epoch's losses go into one tensor sized by len(iterator); an iterator that
    # announces fewer batches than it yields makes it grow, and nothing is lost.
    make = lambda: RRAETransformer(n_components=2, early_stopping=True, **FAST)  # noqa: E731
    with mock.patch.object(BatchIterator, "__len__", lambda self: 1):
        ours = make().fit(X)
    skorchs = _fit(make(), X, "skorch")
    assert _batches(ours) == _batches(skorchs)
    assert len(_batches(ours)[0]) == 6  # 5 training batches of 72 rows (the buffer grew 1 -> 8), 1 validation
    np.testing.assert_array_equal(ours.loss_curve_, skorchs.loss_curve_)


@pytest.mark.parametrize("loop", ["ours", "skorch"])
def test_no_batch_loss_is_read_during_the_epoch(X, loop):
    # Reads of a loss (a tensor with a grad_fn) as a Python float: skorch reads each
    # batch's; the package's loop none (the epoch's losses come back in one tolist).
    # Adam's own .item() calls on its step counts have no grad_fn.
    reads = []
    real_item = torch.Tensor.item

    def item(tensor):
        reads.append(tensor.grad_fn is not None)
        return real_item(tensor)

    est = RRAETransformer(n_components=2, early_stopping=False, **{**FAST, "max_epochs": 10})
    with mock.patch.object(torch.Tensor, "item", item):
        _fit(est, X, loop)
    steps = sum(len(row["batches"]) for row in est.net_.history)
    assert steps == 50
    assert sum(reads) == (0 if loop == "ours" else steps)


class BatchLossReader(Callback):
    """A user's callback reading the batch's loss from the history as skorch records it."""

    def initialize(self):
        self.losses = []
        return self

    def on_batch_end(self, net, training=None, **kwargs):
        if training:
            self.losses.append(net.history[-1, "batches", -1, "train_loss"])


def test_a_callback_reading_the_batch_history_gets_it_in_time(X):
    reader = BatchLossReader()
    est = RRAETransformer(n_components=2, early_stopping=False, callbacks=[reader], **FAST).fit(X)
    recorded = [b["train_loss"] for row in est.net_.history for b in row["batches"]]
    assert reader.losses == recorded and len(recorded) == FAST["max_epochs"] * 5


def test_callbacks_get_every_hook(X):
    # A per-batch learning-rate schedule (on_batch_end) and gradient clipping-like
    # on_grad_computed hooks run on every step, as in skorch.
    calls = {"begin": 0, "grad": 0}

    class Hooks(Callback):
        reads_batch_history = False

        def on_batch_begin(self, net, training=None, **kwargs):
            calls["begin"] += bool(training)

        def on_grad_computed(self, net, named_parameters, **kwargs):
            calls["grad"] += 1
            assert all(p.grad is not None for _, p in named_parameters if p.requires_grad)

    schedule = LRScheduler(policy="StepLR", step_size=1, gamma=0.5, step_every="batch")
    est = RRAETransformer(n_components=2, early_stopping=False, callbacks=[Hooks(), schedule], **FAST).fit(X)
    assert calls == {"begin": FAST["max_epochs"] * 5, "grad": FAST["max_epochs"] * 5}
    assert est.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5 ** (FAST["max_epochs"] * 5))

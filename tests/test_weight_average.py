"""Weight averaging with validation rows: the validation, and the fitted model, see the average."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer
from sklearn_rrae._weight_average import DECAY

from .conftest import FAST


def _weights(module):
    return [p.detach().clone() for p in module.parameters()]


class _Recorder(Callback):
    """The weights after every training step, those validated (at the epoch's end) and
    those each epoch trains from (at its first training batch)."""

    def initialize(self):
        self.steps, self.validated, self.resumed = [], [], []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self._first = True

    def on_batch_begin(self, net, training=None, **kwargs):
        if training and self._first:
            self.resumed.append(_weights(net.module_))
            self._first = False

    def on_batch_end(self, net, training=None, **kwargs):
        if training:
            self.steps.append(_weights(net.module_))

    def on_epoch_end(self, net, **kwargs):
        self.validated.append((len(self.steps), _weights(net.module_)))


def test_the_validation_sees_the_exponential_average_of_the_steps_weights(X_small):
    recorder = _Recorder()
    model = RRAETransformer(
        n_components=2,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=50,
        init="random",
        callbacks=[("recorder", recorder)],
        random_state=0,
        **FAST,
    ).fit(X_small)
    assert len(recorder.validated) == FAST["max_epochs"]
    average = [w.clone() for w in recorder.steps[0]]
    averages = [None, [w.clone() for w in average]]
    for step in recorder.steps[1:]:
        average = [DECAY * a + (1 - DECAY) * w for a, w in zip(average, step, strict=True)]
        averages.append(average)
    for n_steps, validated in recorder.validated:
        for param, expected in zip(validated, averages[n_steps], strict=True):
            torch.testing.assert_close(param, expected, rtol=1e-4, atol=1e-6)
    # Each epoch trains on from the weights of the previous epoch's last step, not from the average.
    for (n_steps, _), resumed in zip(recorder.validated[:-1], recorder.resumed[1:], strict=True):
        for a, b in zip(recorder.steps[n_steps - 1], resumed, strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(recorder.steps[-1][0], recorder.validated[-1][1][0])
    # The fitted model is the average the early stopping chose, and the net keeps no copies.
    best = model.net_.history[-1, "best_epoch"]
    for a, b in zip(_weights(model.module_), recorder.validated[best - 1][1], strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    callback = dict(model.net_.callbacks_)["weight_average"]
    assert callback._average is None and callback._trained is None


@pytest.mark.parametrize(
    "make",
    [
        lambda: RRAETransformer(n_components=2, early_stopping=False, random_state=0, **FAST),
        lambda: AdaptiveRRAETransformer(max_components=3, early_stopping=True, random_state=0, **FAST),
    ],
    ids=["no validation rows", "rank schedule"],
)
def test_no_weight_average_without_validation_or_under_a_rank_schedule(X_small, make):
    model = make().fit(X_small)
    assert "weight_average" not in dict(model.net_.callbacks_)
    assert np.isfinite(model.transform(X_small)).all()


def test_the_swaps_keep_the_optimizer_s_parameters_and_training_goes_on(X_small):
    # The average goes in and out of the module by exchanging storage: the parameter
    # objects (Adam's state is keyed by them) must stay the module's, and a fit that
    # continues (partial_fit, warm_start) must train the module it ends with.
    params = dict(n_components=2, early_stopping=True, validation_fraction=0.2, random_state=0, **FAST)
    model = RRAETransformer(**params).fit(X_small)
    module_params = list(model.module_.parameters())
    optimizer_params = [p for group in model.net_.optimizer_.param_groups for p in group["params"]]
    assert {id(p) for p in optimizer_params} <= {id(p) for p in module_params}
    assert all(id(p) in {id(q) for q in module_params} for p in model.net_.optimizer_.state)
    before = _weights(model.module_)
    model.partial_fit(X_small)
    after = _weights(model.module_)
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))
    # From random weights, so that the continued fit beats the model it starts from
    # (from the PCA start, 5 epochs on 48 rows keep it: start_kept_).
    warm = RRAETransformer(**{**params, "max_epochs": 30}, init="random", warm_start=True).fit(X_small)
    codes = warm.transform(X_small)
    warm.fit(X_small)
    assert not warm.start_kept_ and not np.array_equal(codes, warm.transform(X_small))
    assert np.isfinite(warm.transform(X_small)).all()

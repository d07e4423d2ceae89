"""Small fixed-seed fits whose outputs are pinned in ``tests/data/regression.npz``.

The file was first written by the code as it stood before the redesign of the
base class (issue 16), and re-recorded when the defaults changed (issue 17: the
PCA start and early stopping by default on small data; with ``init="random"``,
``early_stopping=False`` and ``n_iter_no_change=10``, and ``tol=0`` in the
early-stopping case, every case gave the same arrays bit for bit as the code
before that change); ``tests/test_regression.py`` checks that every case still gives
the same reconstructions, codes and loss curve. To re-record after a change that
is *meant* to change the numbers: ``python -m tests.regression_cases``.
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer
from sklearn_rrae.datasets import make_shifted_sine

FIXTURE = Path(__file__).parent / "data" / "regression.npz"
_PINNED_ROWS = 40

_MLP = dict(
    latent_dim=16, hidden_layer_sizes=(32,), max_epochs=4, batch_size=40, device="cpu", random_state=0
)


def _digits():
    X, _ = load_digits(return_X_y=True)
    return X[:160]


def _sine():
    X, _, _, _ = make_shifted_sine(random_state=0)
    return X


def _fit(model, X):
    return model.fit(X)


def _partial_fit(model, X):
    for chunk in np.array_split(X, 2):
        model.partial_fit(chunk)
    return model


def _warm_start(model, X):
    model.fit(X)
    model.set_params(max_epochs=2)
    return model.fit(X)


CASES = {
    "mlp": (_digits, lambda: RRAETransformer(n_components=3, **_MLP), _fit),
    "mlp_none": (_digits, lambda: RRAETransformer(n_components=None, **_MLP), _fit),
    "cnn": (
        _digits,
        lambda: RRAETransformer(
            n_components=3,
            architecture="cnn",
            input_shape=(8, 8),
            encoder__channels=(4, 8),
            **{**_MLP, "max_epochs": 2},
        ),
        _fit,
    ),
    "adaptive": (
        _sine,
        lambda: AdaptiveRRAETransformer(**{**_MLP, "batch_size": 17, "max_epochs": 30}),
        _fit,
    ),
    "n_init": (_digits, lambda: RRAETransformer(n_components=3, n_init=2, **_MLP), _fit),
    "early_stopping": (
        _digits,
        lambda: RRAETransformer(n_components=3, early_stopping=True, n_iter_no_change=2, **_MLP),
        _fit,
    ),
    "warm_start": (_digits, lambda: RRAETransformer(n_components=3, warm_start=True, **_MLP), _warm_start),
    "partial_fit": (_digits, lambda: RRAETransformer(n_components=3, **_MLP), _partial_fit),
}


def run_case(name):
    """``{output name: array}`` of one case: what the pinned file holds for it."""
    make_data, make_model, train = CASES[name]
    X = make_data()
    model = train(make_model(), X)
    # The first rows are enough to pin a fit and keep the file small.
    codes = model.transform(X[:_PINNED_ROWS])
    out = {
        "reconstruction": model.inverse_transform(codes),
        "codes": codes,
        "loss_curve": np.asarray(model.loss_curve_),
        "singular_values": model.singular_values_,
        "n_components": np.asarray(model.n_components_),
    }
    if model.validation_scores_ is not None:
        out["validation_scores"] = np.asarray(model.validation_scores_)
    if getattr(model, "init_scores_", None) is not None:
        out["init_scores"] = model.init_scores_
    if hasattr(model, "rank_history_"):
        out["rank_history"] = np.asarray([(e, r) for e, r, _ in model.rank_history_])
    return out


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)
    arrays = {f"{name}/{key}": value for name in CASES for key, value in run_case(name).items()}
    np.savez_compressed(FIXTURE, **arrays)
    print(f"wrote {len(arrays)} arrays to {FIXTURE}")

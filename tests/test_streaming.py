"""partial_fit, and fitting data read batch by batch (memmaps) instead of copied whole."""

import numpy as np
import pytest
import torch

from sklearn_rrae import AdaptiveRRAETransformer, RRAETransformer, _data
from sklearn_rrae._data import DeviceRows, StreamedRows, release_pages, training_rows
from sklearn_rrae._distributed import global_rank_truncate

from .conftest import FAST
from .test_cnn import TinyDecoder, TinyEncoder


def encoded_gram(est, X):
    Z = est.module_.eval().encode(torch.from_numpy(est._scaling.to_model(X))).detach().double()
    return (Z.mT @ Z).numpy()


def test_one_partial_fit_is_one_epoch_of_fit(X_small):
    # From random weights: a fit without validation rows may go back to its PCA start
    # (the training rows judge it), which a partial_fit call does not do.
    streamed = RRAETransformer(n_components=2, init="random", random_state=0, **FAST).partial_fit(X_small)
    fitted = RRAETransformer(n_components=2, init="random", random_state=0, **{**FAST, "max_epochs": 1}).fit(
        X_small
    )
    np.testing.assert_array_equal(streamed.transform(X_small), fitted.transform(X_small))
    assert streamed.n_iter_ == 1 and streamed.loss_curve_ == fitted.loss_curve_
    assert streamed.n_samples_seen_ == len(X_small)


def test_partial_fit_keeps_optimizer_state_and_accumulates_the_gram(X_small):
    est = RRAETransformer(n_components=2, random_state=0, **FAST)
    first, second = X_small[:40], X_small[40:]
    est.partial_fit(first)
    gram_first = est.latent_gram_.copy()
    np.testing.assert_allclose(gram_first, encoded_gram(est, first), rtol=1e-6, atol=1e-9)
    est.partial_fit(second)
    # The second chunk, encoded by the encoder as it is now, is added to the first.
    np.testing.assert_allclose(est.latent_gram_, gram_first + encoded_gram(est, second), rtol=1e-6, atol=1e-9)
    assert est.n_iter_ == 2 == len(est.loss_curve_) and est.n_samples_seen_ == 60
    state = est.net_.optimizer_.state[est.net_.optimizer_.param_groups[0]["params"][0]]
    assert int(state["step"]) == 2 + 1  # 40 rows: batches of 32 and 8; 20 rows: one batch
    # The basis is the top eigenvectors of the running Gram: it reflects both chunks.
    evals, evecs = np.linalg.eigh(est.latent_gram_)
    top = evecs[:, ::-1][:, :2]
    np.testing.assert_allclose(np.abs(est.components_ @ top), np.eye(2), atol=1e-4)
    np.testing.assert_allclose(est.singular_values_, np.sqrt(evals[::-1][:2]), rtol=1e-5)


def test_basis_reflects_every_chunk():
    # Two chunks on orthogonal feature subspaces, the first one last seen a whole
    # chunk ago: the running basis keeps more of its latent energy than the basis
    # of the last chunk alone would.
    rng = np.random.RandomState(0)
    a = np.zeros((64, 8))
    a[:, :2] = rng.normal(size=(64, 2))
    b = np.zeros((64, 8))
    b[:, 4:6] = rng.normal(size=(64, 2))
    est = RRAETransformer(n_components=2, random_state=0, latent_dim=16, hidden_layer_sizes=(32,))
    for _ in range(10):
        est.partial_fit(a).partial_fit(b)
    Z_a = est.module_.eval().encode(torch.from_numpy(est._scaling.to_model(a))).detach().double().numpy()
    last_only = np.linalg.eigh(encoded_gram(est, b))[1][:, ::-1][:, :2]
    kept = np.linalg.norm(Z_a @ est.components_.T)
    assert kept > 1.05 * np.linalg.norm(Z_a @ last_only)


def test_partial_fit_continues_a_fitted_model(X_small):
    est = RRAETransformer(n_components=2, random_state=0, early_stopping=True, **FAST).fit(X_small)
    before = est.score(X_small)
    for _ in range(10):
        est.partial_fit(X_small)
    assert est.n_iter_ == len(est.loss_curve_) and est.n_samples_seen_ == 10 * len(X_small)
    assert est.score(X_small) > before
    est.fit(X_small)  # a new fit forgets the stream
    assert not hasattr(est, "latent_gram_")


def test_partial_fit_checks_its_chunks(X_small):
    est = RRAETransformer(n_components=3, random_state=0, **FAST)
    with pytest.raises(ValueError, match="n_components=3 must be <= min"):
        est.partial_fit(X_small[:2])
    est.partial_fit(X_small)
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X_small[:, :4])
    with pytest.raises(ValueError, match="NaN"):
        est.partial_fit(np.where(X_small > 0.9, np.nan, X_small))


@pytest.mark.parametrize(
    "change, named",
    [
        ({"n_components": 3}, "n_components 2 -> 3"),
        ({"nested": True}, "nested False -> True"),
        ({"latent_dim": 8}, "latent_dim 16 -> 8"),
        ({"hidden_layer_sizes": (8,)}, "hidden_layer_sizes (32,) -> (8,)"),
        ({"activation": "relu"}, "activation 'silu' -> 'relu'"),
        ({"decoder_dropout": 0.2}, "decoder_dropout 0.0 -> 0.2"),
    ],
)
def test_partial_fit_refuses_a_network_its_parameters_no_longer_describe(X_small, change, named):
    # Like IncrementalPCA with a changed n_components: never continue the old network silently.
    est = RRAETransformer(n_components=2, random_state=0, **FAST).partial_fit(X_small)
    components = est.components_.copy()
    est.set_params(**change)
    with pytest.raises(ValueError, match=named.replace("(", r"\(").replace(")", r"\)")):
        est.partial_fit(X_small)
    np.testing.assert_array_equal(est.components_, components)  # the fitted model is untouched
    est.fit(X_small)  # a new fit builds the network the parameters describe
    assert est.transform(X_small).shape[1] == est.get_params()["n_components"]


def test_partial_fit_refuses_changed_networks_of_the_user_s_own(X_small):
    est = RRAETransformer(
        n_components=2, encoder=TinyEncoder, decoder=TinyDecoder, encoder__width=6, random_state=0, **FAST
    ).partial_fit(X_small)
    with pytest.raises(ValueError, match="encoder__\\* {'width': 6} -> {'width': 4}"):
        est.set_params(encoder__width=4).partial_fit(X_small)
    with pytest.raises(ValueError, match="decoder .*TinyDecoder.* -> .*TinyEncoder"):
        est.set_params(encoder__width=6, decoder=TinyEncoder).partial_fit(X_small)
    est.set_params(decoder=TinyDecoder).partial_fit(X_small)  # set back: it goes on


def test_partial_fit_continues_a_net_fitted_in_a_process_group(X_small):
    # Such a net truncates with global_rank_truncate (rank_truncate outside a group).
    est = RRAETransformer(n_components=2, random_state=0, **FAST).fit(X_small)
    est.net_.module_.truncation = est.net_.module_.eval_truncation = global_rank_truncate
    est.partial_fit(X_small)
    with pytest.raises(ValueError, match="nested False -> True"):
        est.set_params(nested=True).partial_fit(X_small)


def test_partial_fit_goes_on_when_only_training_settings_change(X_small):
    est = RRAETransformer(n_components=2, random_state=0, **FAST).partial_fit(X_small)
    est.set_params(lr=1e-4, batch_size=32, hidden_layer_sizes=list(est.hidden_layer_sizes))
    est.partial_fit(X_small)
    assert est.n_samples_seen_ == 2 * len(X_small)


def test_adaptive_estimator_has_no_partial_fit():
    # Its rank schedule needs the training budget up front.
    assert not hasattr(AdaptiveRRAETransformer(), "partial_fit")


@pytest.fixture
def stream_everything(monkeypatch):
    """Every input takes the batch-by-batch path, as inputs above 256 MiB do."""
    monkeypatch.setattr(_data, "_WHOLE_TENSOR_MAX_BYTES", 0)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_streamed_batches_train_exactly_like_the_whole_tensor(X_small, early_stopping, monkeypatch):
    params = dict(n_components=2, random_state=0, early_stopping=early_stopping, **FAST)
    whole = RRAETransformer(**params).fit(X_small)
    assert isinstance(training_rows(X_small, whole._scaling.to_model, "cpu"), DeviceRows)
    monkeypatch.setattr(_data, "_WHOLE_TENSOR_MAX_BYTES", 0)
    streamed = RRAETransformer(**params).fit(X_small)
    assert isinstance(training_rows(X_small, streamed._scaling.to_model, "cpu"), StreamedRows)
    assert streamed.loss_curve_ == whole.loss_curve_
    np.testing.assert_array_equal(streamed.transform(X_small), whole.transform(X_small))


@pytest.mark.parametrize("mode", ["r", "r+", "c"])
def test_fit_from_a_memmap_leaves_it_intact(X_small, tmp_path, mode, stream_everything):
    path = tmp_path / "X.dat"
    source = np.memmap(path, dtype=np.float32, mode="w+", shape=X_small.shape)
    source[:] = X_small
    source.flush()
    X = np.memmap(path, dtype=np.float32, mode=mode, shape=X_small.shape)
    if mode == "c":
        X[0, 0] = 5.0  # a private change that releasing pages would lose
    expected = np.array(X)
    est = RRAETransformer(n_components=2, random_state=0, **FAST).fit(X)
    np.testing.assert_array_equal(X, expected)
    assert est.transform(X).dtype == np.float32
    in_memory = RRAETransformer(n_components=2, random_state=0, **FAST).fit(expected)
    assert est.loss_curve_ == in_memory.loss_curve_  # trained alike (both end at their PCA start)
    np.testing.assert_array_equal(est.transform(expected), in_memory.transform(expected))


def test_release_pages_ignores_arrays_that_are_not_mapped(X_small):
    release_pages(X_small)
    release_pages(X_small[::2])


def test_subset_of_a_subset_takes_positions_within_it():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    datasets = [
        DeviceRows(torch.from_numpy(X)),
        StreamedRows(X, lambda block: block.astype(np.float32), "cpu"),
    ]
    for data in datasets:
        inner = data.subset([1, 3, 5, 7]).subset([0, 2])
        rows = torch.cat([torch.as_tensor(chunk) for chunk in inner.chunks()])
        np.testing.assert_array_equal(rows.numpy(), X[[1, 5]])


@pytest.mark.parametrize("mode", ["r", "c"])
def test_gather_rows_of_a_memmap_are_its_rows_in_the_order_asked(tmp_path, mode):
    # Read in file order, a few rows at a time (the pages released in between):
    # the result must still be X[index], for an index in any order, with repeats.
    X = np.arange(40 * 3, dtype=np.float32).reshape(40, 3)
    path = tmp_path / "X.dat"
    source = np.memmap(path, dtype=np.float32, mode="w+", shape=X.shape)
    source[:] = X
    source.flush()
    mapped = np.memmap(path, dtype=np.float32, mode=mode, shape=X.shape)
    index = np.random.RandomState(0).randint(40, size=37)
    np.testing.assert_array_equal(_data.gather_rows(mapped, index), X[index])
    np.testing.assert_array_equal(_data.gather_rows(X, index), X[index])

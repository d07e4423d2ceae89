"""Host-to-GPU transfers: whole when the data fit, pinned non-blocking batches when large.

These tests need CUDA and are skipped without it.
"""

import numpy as np
import pytest
import torch

from sklearn_rrae import RRAETransformer, _data
from sklearn_rrae._data import DeviceRows, StreamedRows, to_device, training_rows

from .conftest import FAST

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@cuda
def test_to_device_copies_through_pinned_memory(monkeypatch):
    pinned = []
    original = torch.Tensor.pin_memory

    def spy(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        pinned.append(out.is_pinned())
        return out

    monkeypatch.setattr(torch.Tensor, "pin_memory", spy)
    rows = np.random.RandomState(0).rand(300, 7).astype(np.float32)
    on_gpu = to_device(rows, "cuda")
    assert on_gpu.device.type == "cuda" and pinned == [True]
    np.testing.assert_array_equal(on_gpu.cpu().numpy(), rows)  # .cpu() waits for the copy


@cuda
def test_large_data_streams_to_the_gpu_and_trains_like_the_whole_tensor(X_small, monkeypatch):
    params = dict(n_components=2, random_state=0, device="cuda", **FAST)
    whole = RRAETransformer(**params).fit(X_small)
    assert isinstance(training_rows(X_small, whole._scaling.to_model, "cuda"), DeviceRows)
    monkeypatch.setattr(_data, "_WHOLE_TENSOR_MAX_BYTES", 0)
    streamed = RRAETransformer(**params).fit(X_small)
    data = training_rows(X_small, streamed._scaling.to_model, "cuda")
    assert isinstance(data, StreamedRows) and data.take(slice(0, 5)).device.type == "cuda"
    # Same batches, same order: equal up to the GPU's non-deterministic reductions.
    np.testing.assert_allclose(streamed.loss_curve_, whole.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(streamed.transform(X_small), whole.transform(X_small), rtol=1e-3, atol=1e-4)

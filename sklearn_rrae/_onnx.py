"""``to_onnx``: the inference path of a fitted model as an ONNX graph.

Only what ``transform`` / ``inverse_transform`` compute: the scaling, the
encoder and the projection on the stored basis (or the basis, the decoder and
the scaling back). No SVD is in the graph: the basis is a constant of it.
"""

import copy
import logging
import warnings

import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._base import BaseRRAE

_METHODS = ("transform", "inverse_transform")


class _Transform(nn.Module):
    """``X`` in data units -> codes: ``to_codes(X * scale + shift)``, float32 throughout.

    The scaling ``(X / max_abs - mean) / unit`` as one affine map, its constants
    computed in float64. Scaling in float64 inside the graph, as the estimator
    does, gave the same agreement (the network's float32 arithmetic dominates:
    benchmarks/NOTES.md) and would put float64 operations, which some ONNX
    runtimes do not run, in the graph.
    """

    def __init__(self, module, scaling):
        super().__init__()
        self.module = module
        scale = 1.0 / (scaling.max_abs * scaling.unit)
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))
        self.register_buffer("shift", torch.tensor(-scaling.mean / scaling.unit, dtype=torch.float32))

    def forward(self, X):
        return self.module.to_codes(X * self.scale + self.shift)


class _InverseTransform(nn.Module):
    """codes -> rows in data units: ``from_codes(C) * scale + shift``, float32 throughout."""

    def __init__(self, module, scaling):
        super().__init__()
        self.module = module
        self.register_buffer("scale", torch.tensor(scaling.unit * scaling.max_abs, dtype=torch.float32))
        self.register_buffer("shift", torch.tensor(scaling.mean * scaling.max_abs, dtype=torch.float32))

    def forward(self, C):
        return self.module.from_codes(C) * self.scale + self.shift


def to_onnx(estimator, path, method="transform"):
    """Export ``transform`` or ``inverse_transform`` of a fitted model to an ONNX file.

    The graph takes a float32 matrix with any number of rows (a dynamic batch
    dimension) and returns float32: for ``"transform"`` it maps
    ``(n, n_features_in_)`` data to ``(n, n_components_)`` codes, for
    ``"inverse_transform"`` ``(n, n_components_)`` codes to ``(n,
    n_features_in_)`` rows in data units. It holds the scaling, the network
    and the stored basis, and no SVD: serve it with onnxruntime, without
    Python, torch or this package. Needs ``onnx`` and ``onnxscript``
    (``pip install 'sklearn-rrae[export]'``).

    Parameters
    ----------
    estimator : fitted RRAETransformer or AdaptiveRRAETransformer
        The model whose inference path is exported; it is not changed.
    path : str or os.PathLike
        The ``.onnx`` file to write.
    method : {"transform", "inverse_transform"}, default="transform"

    Notes
    -----
    The graph is float32 throughout (the estimator scales in float64): its
    outputs agree with the estimator's to float32 rounding, a relative error
    of about ``2e-7`` and every entry within ``1e-6`` of the largest one on the
    digits and MNIST models of ``benchmarks/onnx_parity.py`` (the tests hold
    it to ``1e-5``).

    See Also
    --------
    save : The whole estimator, to load it back in Python.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import onnxruntime
    >>> from sklearn.datasets import load_digits
    >>> import sklearn_rrae
    >>> X, _ = load_digits(return_X_y=True)
    >>> rrae = sklearn_rrae.RRAETransformer(n_components=5, max_epochs=5, random_state=0).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "encoder.onnx")
    >>> sklearn_rrae.to_onnx(rrae, path)
    >>> session = onnxruntime.InferenceSession(path)
    >>> codes = session.run(None, {"X": X[:10].astype(np.float32)})[0]
    >>> codes.shape
    (10, 5)
    """
    if not isinstance(estimator, BaseRRAE):
        raise TypeError(
            f"to_onnx exports RRAETransformer and AdaptiveRRAETransformer; got {type(estimator).__name__}."
        )
    if method not in _METHODS:
        raise ValueError(
            f"The 'method' parameter of to_onnx must be one of {_METHODS}. Got {method!r} instead."
        )
    check_is_fitted(estimator)
    for package in ("onnx", "onnxscript"):
        try:
            __import__(package)
        except ImportError as exc:
            raise ImportError(
                f"to_onnx needs the {package} package (torch's ONNX exporter uses it): "
                f"pip install 'sklearn-rrae[export]'."
            ) from exc
    module = copy.deepcopy(estimator.module_).cpu().eval()
    if method == "transform":
        graph, n_in, names = _Transform(module, estimator._scaling), estimator.n_features_in_, ("X", "codes")
    else:
        graph, n_in = _InverseTransform(module, estimator._scaling), estimator.n_components_
        names = ("codes", "X")
    # The exporter's notices about its own internals ("torchvision is not installed")
    # are not the user's business.
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore", (UserWarning, DeprecationWarning, FutureWarning))
            _export(graph, n_in, names, path)
    finally:
        exporter_log.setLevel(level)


def _export(graph, n_in, names, path):
    example = torch.zeros(2, n_in, dtype=torch.float32)
    torch.onnx.export(
        graph,
        (example,),
        path,
        dynamo=True,
        input_names=[names[0]],
        output_names=[names[1]],
        dynamic_shapes=({0: torch.export.Dim("batch")},),
        verbose=False,
    )

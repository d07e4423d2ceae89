"""``save`` and ``load``: a fitted estimator as one file that loading cannot make run code.

The file is a zip archive of two members: ``model.json``, a JSON document (the
estimator's class, parameters and fitted state, the versions that wrote it),
and ``arrays.safetensors``, every array it refers to (weights, optimizer
moments, basis, scaling, curves, the density of ``sample()``). Loading parses
JSON and safetensors only (no pickle) and names classes through
:class:`~sklearn_rrae._serialization.Trust`. The skorch net is built again the
way ``fit`` builds it, from the plan it was built from, then given its
weights, optimizer state, history and shuffling generator back: ``transform``,
``score`` and ``sample`` give the same numbers bit for bit, and ``partial_fit``
or ``warm_start`` continue as they would have.
"""

import dataclasses
import json
import os
import zipfile
import zlib

import numpy as np
import sklearn
import torch
from skorch.history import History

from ._base import BaseRRAE
from ._net import fork_rng
from ._plan import resolve_device
from ._serialization import Decoder, Encoder, Trust, class_path, load_weights, set_state

FORMAT = "sklearn-rrae"
# Raise it when a file of this version would be read wrongly by the code of the
# previous one; load refuses files from a newer version.
FORMAT_VERSION = 1
_DOCUMENT = "model.json"
_ARRAYS = "arrays.safetensors"


def _safetensors():
    try:
        import safetensors.numpy
    except ImportError as exc:
        raise ImportError(
            "sklearn_rrae.save and sklearn_rrae.load need the safetensors package: "
            "pip install 'sklearn-rrae[export]' (or pip install safetensors)."
        ) from exc
    return safetensors.numpy


def save(estimator, path):
    """Save an estimator, fitted or not, to one file that :func:`load` reads without pickle.

    The file holds the class, the parameters and the fitted state (network
    weights, optimizer state, training history, basis, scaling, the density
    of :meth:`~RRAETransformer.sample`) as JSON plus safetensors arrays. For
    your own files, pickle or joblib are fine; this format is for files you
    share or receive: loading one never runs code it brings.

    Parameters
    ----------
    estimator : RRAETransformer or AdaptiveRRAETransformer
    path : str, os.PathLike or file object
        Where to write (overwritten). The suffix is yours to choose (``.rrae``, say).

    Raises
    ------
    ValueError
        When a parameter or attribute cannot be stored faithfully, with its
        name: a custom network *instance* whose constructor arguments are not
        stored as attributes of the same names, a callback holding a function,
        an array of Python objects. Pass a network class (and its arguments as
        ``encoder__<name>``) instead of an instance, or use pickle.

    See Also
    --------
    load : Read the file back.
    to_onnx : Export the inference path, for serving without Python.

    Examples
    --------
    >>> import tempfile, os
    >>> from sklearn.datasets import load_digits
    >>> import sklearn_rrae
    >>> X, _ = load_digits(return_X_y=True)
    >>> rrae = sklearn_rrae.RRAETransformer(n_components=5, max_epochs=5, random_state=0).fit(X)
    >>> path = os.path.join(tempfile.mkdtemp(), "digits.rrae")
    >>> sklearn_rrae.save(rrae, path)
    >>> loaded = sklearn_rrae.load(path)
    >>> bool((loaded.transform(X) == rrae.transform(X)).all())
    True
    """
    if not isinstance(estimator, BaseRRAE):
        raise TypeError(
            f"sklearn_rrae.save saves RRAETransformer and AdaptiveRRAETransformer models; got "
            f"{type(estimator).__name__}. Use joblib or skops for other estimators."
        )
    st = _safetensors()
    encode = Encoder()
    params = estimator.get_params(deep=False)
    own = set(estimator._get_param_names()) | {"_extra_params"}
    state = {k: v for k, v in vars(estimator).items() if k not in own}
    net, density = state.pop("net_", None), state.pop("density_", None)
    if net is not None and "_net_plan" not in state:
        raise ValueError(
            "This model was fitted by an older sklearn-rrae, which did not record its plan: refit it."
        )
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": _versions(),
        "class": class_path(type(estimator)),
        "params": encode(params, "parameter"),
        "fitted": net is not None,
        "state": encode(state, "attribute"),
        "density": None if density is None else encode.fitted_estimator(density, "density_"),
        "net": None if net is None else _encode_net(net, encode),
    }
    text = json.dumps(document, allow_nan=True)
    arrays = st.save(encode.arrays) if encode.arrays else st.save({})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(_DOCUMENT, text, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(_ARRAYS, arrays, compress_type=zipfile.ZIP_STORED)


def _versions():
    from . import __version__

    return {
        "sklearn-rrae": __version__,
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
    }


def _encode_net(net, encode):
    """What the net holds beyond its plan: weights, optimizer state, history, shuffling generator."""
    return {
        "n_components": net.module_.n_components,  # a rank schedule may have changed it
        "module": encode(dict(net.module_.state_dict()), "net_.module_"),
        "optimizer": encode(net.optimizer_.state_dict(), "net_.optimizer_"),
        "history": encode(list(net.history), "net_.history"),
        "shuffling": encode(net.iterator_train__generator.get_state(), "net_ shuffling generator"),
    }


def load(path, *, trusted=()):
    """Load an estimator saved by :func:`save`, without unpickling or importing what the file names.

    The file's JSON document is parsed and its arrays read as safetensors
    (raw numbers); a class it names is taken from this package, torch's
    optimizers, scikit-learn's ``GaussianMixture``, ``BayesianGaussianMixture``
    and ``KernelDensity``, or ``trusted``. A model fitted on a GPU loads on a
    CPU-only machine (on the GPU when its ``device`` is ``"auto"`` or names
    a GPU that is there).

    Parameters
    ----------
    path : str, os.PathLike or file object
    trusted : iterable of classes or str, default=()
        Further classes the file may name, as classes or dotted paths (for
        example ``["mypackage.nets.Encoder"]``): a custom ``encoder`` /
        ``decoder`` class or network, an optimizer or callback from another
        package. Constructing them is running their code: list only classes you
        trust. A path is imported only when the file names it.

    Returns
    -------
    estimator : RRAETransformer or AdaptiveRRAETransformer
        Fitted if the saved one was; ``partial_fit`` and ``warm_start``
        continue from its weights, optimizer state and shuffling generator.

    Raises
    ------
    ValueError
        For a file that is not one of this format (not a zip archive,
        truncated, members missing), a JSON document that names an untrusted
        or unknown class (the message says how to trust it), arrays missing or
        of the wrong shape, or a format version newer than this package reads.

    See Also
    --------
    save : Write the file.
    """
    st = _safetensors()
    document, array_bytes = _read(path)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(
            f"{_name(path)} is not a sklearn-rrae model file: its document is not of this format."
        )
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{_name(path)}: the format version {version!r} is not valid.")
    if version > FORMAT_VERSION:
        written = document.get("versions", {})
        raise ValueError(
            f"{_name(path)} was written in format version {version} (by sklearn-rrae "
            f"{written.get('sklearn-rrae', '?') if isinstance(written, dict) else '?'}); this sklearn-rrae "
            f"reads versions up to {FORMAT_VERSION}: upgrade sklearn-rrae to load it."
        )
    try:
        arrays = st.load(array_bytes)
    except Exception as exc:  # safetensors raises its own error type for any malformed header
        raise ValueError(f"{_name(path)}: its arrays are not a valid safetensors file ({exc}).") from exc
    try:
        return _build(document, Decoder(arrays, Trust(trusted)))
    except KeyError as exc:
        raise ValueError(f"{_name(path)}: the document lacks the entry {exc}.") from exc


def _name(path):
    return repr(os.fspath(path)) if isinstance(path, str | os.PathLike) else "The file"


def _read(path):
    """The document (parsed JSON) and the arrays' bytes, or a ValueError saying what is wrong."""
    try:
        with zipfile.ZipFile(path) as archive:
            missing = {_DOCUMENT, _ARRAYS} - set(archive.namelist())
            if missing:
                raise ValueError(
                    f"{_name(path)} is not a sklearn-rrae model file: the archive lacks {sorted(missing)}."
                )
            text, array_bytes = archive.read(_DOCUMENT), archive.read(_ARRAYS)
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise ValueError(
            f"{_name(path)} is not a sklearn-rrae model file, or it is truncated or corrupted: {exc}."
        ) from exc
    try:
        return json.loads(text), array_bytes
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{_name(path)}: its document is not valid JSON ({exc}).") from exc


def _build(document, decode):
    cls = decode.trust.resolve(document["class"], base=BaseRRAE, role="estimator class")
    params = decode(document["params"])
    if not isinstance(params, dict):
        raise ValueError("The file's parameters are not a mapping.")
    try:
        estimator = cls(**params)
    except TypeError as exc:
        raise ValueError(f"The file's parameters do not fit {cls.__name__}: {exc}") from exc
    set_state(estimator, decode(document["state"]))
    if not document["fitted"]:
        return estimator
    estimator.density_ = decode(document["density"])
    _check_fitted_state(estimator)
    estimator.net_ = _build_net(estimator, document["net"], decode)
    return estimator


def _check_fitted_state(estimator):
    """The fitted arrays agree in shape with each other (the weights are checked on loading)."""
    try:
        n_features, k = estimator.n_features_in_, estimator.n_components_
        latent_dim = estimator._net_plan.network.latent_dim
        expected = {
            "_scaling.mean": (estimator._scaling.mean.shape, (n_features,)),
            "_scaling.feature_std": (estimator._scaling.feature_std.shape, (n_features,)),
            "components_": (estimator.components_.shape, (k, latent_dim)),
            "singular_values_": (estimator.singular_values_.shape, (k,)),
            "the plan's n_features": ((estimator._net_plan.network.n_features,), (n_features,)),
        }
        if estimator.explained_variance_ratio_ is not None:
            expected["explained_variance_ratio_"] = (estimator.explained_variance_ratio_.shape, (k,))
    except AttributeError as exc:
        raise ValueError(f"The file's fitted state is incomplete: {exc}") from exc
    for name, (shape, want) in expected.items():
        if tuple(shape) != tuple(want):
            raise ValueError(f"The file's {name} has shape {tuple(shape)}; this model needs {tuple(want)}.")


def _load_device(device):
    """Where the loaded net goes: the estimator's device if this machine has it, else the CPU."""
    try:
        return resolve_device(device)
    except ValueError:
        return "cpu"


def _build_net(estimator, saved, decode):
    """The net ``fit`` built, built again from its plan, then given its saved state."""
    plan = dataclasses.replace(estimator._net_plan, device=_load_device(estimator.device))
    axes = np.zeros((plan.rank, estimator.n_features_in_)) if plan.pca_start else None
    with fork_rng(plan.device):  # building draws initial weights: the caller's RNG is left alone
        net = estimator._new_net(plan, 0, estimator._scaling, None, axes)
    module = net.module_
    module.n_components = decode(saved["n_components"])
    module.set_basis(torch.zeros(estimator.components_.shape))
    load_weights(module, decode(saved["module"]), "this model's network")
    try:
        net.optimizer_.load_state_dict(decode(saved["optimizer"]))
    except (ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise ValueError(f"The file's optimizer state does not fit the network: {exc}") from exc
    net.history_ = History(decode(saved["history"]))
    shuffling = decode(saved["shuffling"])
    if not isinstance(shuffling, torch.Tensor) or shuffling.dtype != torch.uint8:
        raise ValueError("The file's shuffling generator state is not a uint8 tensor.")
    try:
        net.iterator_train__generator.set_state(shuffling)
    except RuntimeError as exc:
        raise ValueError(f"The file's shuffling generator state is not valid: {exc}") from exc
    return net

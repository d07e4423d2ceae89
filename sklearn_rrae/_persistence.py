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
import numbers
import os
import zipfile
import zlib

import numpy as np
import sklearn
import torch
from skorch.history import History

from ._base import BaseRRAE
from ._linear_start import pca_start
from ._module import RRAEModule
from ._net import fork_rng
from ._networks import NetworkSpec
from ._plan import TrainingPlan, resolve_device
from ._scaling import Scaling
from ._serialization import Decoder, Encoder, Trust, class_path, load_weights, set_state

FORMAT = "sklearn-rrae"
# Raise it when a file of this version would be read wrongly by the code of the
# previous one; load refuses files from a newer version.
FORMAT_VERSION = 1
_DOCUMENT = "model.json"
_ARRAYS = "arrays.safetensors"
# A document larger than this must not be more than this many times its compressed
# size (the JSON of a real model compresses 3-10 x; 300 MB of spaces, 1,000 x).
_DOCUMENT_FREE_BYTES = 1 << 20
_DOCUMENT_MAX_RATIO = 100
# Whatever else a crafted document can make the code raise while the model is built
# again: the file is data, so each of them is a bad file (chained, for the details).
_MALFORMED = (
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    OverflowError,
    RuntimeError,
    AssertionError,
    NotImplementedError,
    RecursionError,
)


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
        The model to save, fitted or not; it is not changed.
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
    try:
        text = json.dumps(document, allow_nan=True)
    except (TypeError, ValueError) as exc:  # a value the encoder let through raw: a bug, said clearly
        raise ValueError(f"Cannot save {type(estimator).__name__}: {exc}") from exc
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
        "n_components": encode(
            net.module_.n_components, "net_.module_.n_components"
        ),  # a schedule changes it
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
        A file written by :func:`save`.
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

    Examples
    --------
    A custom network class must be trusted by the caller (here: the built-in
    CNN's own encoder, passed as a class, which needs no trust; a class of
    your own would be listed as ``trusted=[MyEncoder]`` or by its dotted path).

    >>> import io
    >>> from sklearn.datasets import load_digits
    >>> import sklearn_rrae
    >>> X, _ = load_digits(return_X_y=True)
    >>> rrae = sklearn_rrae.RRAETransformer(
    ...     n_components=5, encoder=sklearn_rrae.ConvEncoder, input_shape=(8, 8), max_epochs=2, random_state=0
    ... ).fit(X)
    >>> buffer = io.BytesIO()
    >>> sklearn_rrae.save(rrae, buffer)
    >>> _ = buffer.seek(0)
    >>> loaded = sklearn_rrae.load(buffer)
    >>> bool((loaded.sample(3, random_state=0) == rrae.sample(3, random_state=0)).all())
    True
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
    trust = Trust(trusted)
    try:
        return _build(document, Decoder(arrays, trust))
    except _MALFORMED as exc:
        raise ValueError(
            f"{_name(path)} does not describe a valid model: {type(exc).__name__}: {exc}"
        ) from exc


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
            document, arrays = archive.getinfo(_DOCUMENT), archive.getinfo(_ARRAYS)
            if arrays.compress_type != zipfile.ZIP_STORED or (
                document.file_size > _DOCUMENT_FREE_BYTES
                and document.file_size > _DOCUMENT_MAX_RATIO * document.compress_size
            ):
                raise ValueError(
                    f"{_name(path)} is not a sklearn-rrae model file: its members are compressed "
                    f"beyond what save writes (arrays stored, the document at most "
                    f"{_DOCUMENT_MAX_RATIO} x)."
                )
            text, array_bytes = archive.read(document), archive.read(arrays)
    except (zipfile.BadZipFile, EOFError, zlib.error, RuntimeError, NotImplementedError) as exc:
        raise ValueError(
            f"{_name(path)} is not a sklearn-rrae model file, or it is truncated or corrupted: {exc}."
        ) from exc
    try:
        return json.loads(text), array_bytes
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{_name(path)}: its document is not valid JSON ({exc!r}).") from exc


def _build(document, decode):
    cls = decode.trust.resolve(document["class"], base=BaseRRAE, role="estimator class")
    params = decode(document["params"])
    if not isinstance(params, dict):
        raise ValueError("The file's parameters are not a mapping.")
    try:
        estimator = cls(**params)
    except TypeError as exc:
        raise ValueError(f"The file's parameters do not fit {cls.__name__}: {exc}") from exc
    state = decode(document["state"])
    fitted = document["fitted"] is True
    # Parameters, and what has its own entry, are not state; an unfitted file has no fitted attribute.
    reserved = ["_extra_params", "net_", "density_"]
    reserved += (
        [] if fitted else [k for k in state if isinstance(k, str) and k.endswith("_") or k == "_net_plan"]
    )
    set_state(estimator, state, reserved=reserved)
    if not fitted:
        return estimator
    estimator.density_ = decode(document["density"])
    _check_fitted_state(estimator)
    estimator.net_ = _build_net(estimator, document["net"], decode)
    return estimator


def _check_fitted_state(estimator):
    """The fitted arrays agree in shape with each other (the weights are checked on loading)."""
    plan = getattr(estimator, "_net_plan", None)
    if not (
        isinstance(plan, TrainingPlan)
        and isinstance(plan.network, NetworkSpec)
        and isinstance(getattr(estimator, "_scaling", None), Scaling)
    ):
        raise ValueError("The file's fitted state lacks the plan, network or scaling of its model.")
    rank, limit = plan.rank, min(plan.network.latent_dim, plan.network.n_features)
    if rank is not None and not (_is_int(rank) and 1 <= rank <= limit):
        raise ValueError(f"The file's plan has the rank {rank!r}; its network allows 1 to {limit}.")
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
    scaling = estimator._scaling
    if not all(
        isinstance(a, np.ndarray) and a.dtype == np.float64 for a in (scaling.mean, scaling.feature_std)
    ):
        raise ValueError("The file's scaling (_scaling.mean, _scaling.feature_std) is not float64 arrays.")


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _load_device(device):
    """Where the loaded net goes: the estimator's device if this machine has it, else the CPU."""
    try:
        resolved = resolve_device(device)
    except Exception:  # torch.device("hpu") imports a backend that may not exist: any failure is "not here"
        return "cpu"
    return resolved if torch.device(resolved).type in ("cpu", "cuda", "mps") else "cpu"


def _check_weights_fit_plan(estimator, plan, weights):
    """The saved weights have the shapes of the network the plan builds, checked on torch's
    meta device first: a crafted plan must not allocate a huge network before it is refused."""
    if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        raise ValueError("The file's weights are not a mapping of names to arrays.")
    with torch.device("meta"), torch.random.fork_rng(devices=[]):
        encoder, decoder = plan.network.build()
        if plan.pca_start:
            axes = np.zeros((plan.rank, estimator.n_features_in_))
            encoder, decoder = pca_start(encoder, decoder, axes, estimator._scaling.decoder_gain)
        module = RRAEModule(
            encoder, decoder, plan.network.latent_dim, plan.rank, estimator._scaling.decoder_gain
        )
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    expected["basis"] = tuple(estimator.components_.shape)
    saved = {k: tuple(v.shape) for k, v in weights.items()}
    if saved != expected:
        wrong = sorted(set(saved.items()) ^ set(expected.items()))[:4]
        raise ValueError(
            f"The file's weights do not fit this model's network (saved and expected shapes differ: {wrong})."
        )


def _build_net(estimator, saved, decode):
    """The net ``fit`` built, built again from its plan, then given its saved state."""
    # A net trained in a process group is loaded for one process.
    plan = dataclasses.replace(estimator._net_plan, device=_load_device(estimator.device), distributed=False)
    weights = decode(saved["module"])
    _check_weights_fit_plan(estimator, plan, weights)
    axes = np.zeros((plan.rank, estimator.n_features_in_)) if plan.pca_start else None
    with fork_rng(plan.device):  # building draws initial weights: the caller's RNG is left alone
        net = estimator._new_net(plan, 0, estimator._scaling, None, axes)
    module = net.module_
    n_components = decode(saved["n_components"])
    if n_components is not None and not (_is_int(n_components) and 1 <= n_components):
        raise ValueError(f"The file's network rank {n_components!r} is not a positive int or None.")
    module.n_components = n_components
    module.set_basis(torch.zeros(estimator.components_.shape))
    load_weights(module, weights, "this model's network")
    if not np.array_equal(module.basis.cpu().numpy(), np.asarray(estimator.components_, dtype=np.float32)):
        raise ValueError("The file's components_ differ from the basis its network holds.")
    _load_optimizer(net, decode(saved["optimizer"]))
    net.history_ = History(decode(saved["history"]))
    shuffling = decode(saved["shuffling"])
    if not isinstance(shuffling, torch.Tensor) or shuffling.dtype != torch.uint8:
        raise ValueError("The file's shuffling generator state is not a uint8 tensor.")
    try:
        net.iterator_train__generator.set_state(shuffling)
    except RuntimeError as exc:
        raise ValueError(f"The file's shuffling generator state is not valid: {exc}") from exc
    return net


def _load_optimizer(net, state):
    """The optimizer's saved state, each per-parameter tensor of its parameter's shape."""
    try:
        net.optimizer_.load_state_dict(state)
    except (ValueError, KeyError, TypeError, RuntimeError, IndexError, AttributeError) as exc:
        raise ValueError(f"The file's optimizer state does not fit the network: {exc!r}") from exc
    for parameter, values in net.optimizer_.state.items():
        for name, value in values.items():
            if isinstance(value, torch.Tensor) and value.dim() and value.shape != parameter.shape:
                raise ValueError(
                    f"The file's optimizer state {name!r} has shape {tuple(value.shape)} for a weight "
                    f"of shape {tuple(parameter.shape)}."
                )

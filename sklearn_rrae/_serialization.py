"""Values to a JSON document plus named arrays, and back, naming only trusted classes.

The file format of :func:`sklearn_rrae.save` stores everything it can as JSON
and every array apart (safetensors, which holds raw numbers only). Python
values become JSON with a few tags (``{"__tuple__": [...]}``, ``{"__array__":
name}``, ``{"__class__": dotted.path}``, ...). Decoding never imports what a
document names: a class is looked up in :class:`Trust`, an allowlist of this
package's classes, torch's optimizers and scikit-learn's densities, extended
only by what the caller lists. A value the format cannot hold faithfully is
refused when saving, with the attribute's path in the message.
"""

import dataclasses
import importlib
import inspect
import numbers

import numpy as np
import torch
from sklearn.mixture import BayesianGaussianMixture, GaussianMixture
from sklearn.neighbors import KernelDensity
from torch import nn

# numpy dtypes an array may have in the file (safetensors holds no objects).
_ARRAY_KINDS = "biuf"


def class_path(cls):
    """``module.qualname`` of a class: how the file names it."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _builtin_trusted():
    import sklearn_rrae
    from sklearn_rrae import _networks, _plan, _scaling

    classes = [getattr(sklearn_rrae, name) for name in sklearn_rrae.__all__]
    classes = [c for c in classes if isinstance(c, type)]
    classes += [_scaling.Scaling, _plan.TrainingPlan, _networks.NetworkSpec]
    classes += [
        c for c in vars(torch.optim).values() if isinstance(c, type) and issubclass(c, torch.optim.Optimizer)
    ]
    classes += [GaussianMixture, BayesianGaussianMixture, KernelDensity]
    return {class_path(c): c for c in classes}


class Trust:
    """The classes a document may name: the built-in ones, plus ``trusted``.

    ``trusted`` holds classes, or their dotted paths (``"mypackage.nets.Encoder"``);
    a path is imported only when the document names it.
    """

    def __init__(self, trusted=()):
        if isinstance(trusted, str | type):
            trusted = (trusted,)
        self.classes = _builtin_trusted()
        self.paths = set()
        for entry in trusted:
            if isinstance(entry, type):
                self.classes[class_path(entry)] = entry
            elif isinstance(entry, str):
                self.paths.add(entry)
            else:
                raise TypeError(
                    f"'trusted' must hold classes or their dotted paths as strings. Got {entry!r}."
                )

    def resolve(self, path, base=None, role="class"):
        """The class the document names ``path``, if trusted (and a subclass of ``base``)."""
        if not isinstance(path, str):
            raise ValueError(f"The file names its {role} with {path!r}, which is not a dotted path.")
        cls = self.classes.get(path)
        if cls is None and path in self.paths:
            cls = _import(path)
            self.classes[path] = cls
        if cls is None:
            raise ValueError(
                f"The file names the {role} {path!r}, which is not trusted: loading never imports "
                f"what a file names. If you trust the file's author and this class, pass "
                f"trusted=[{path!r}] (or the class itself) to sklearn_rrae.load."
            )
        if not isinstance(cls, type) or (base is not None and not issubclass(cls, base)):
            expected = "a class" if base is None else f"a subclass of {base.__name__}"
            raise ValueError(f"The file names {path!r} as its {role}, which is not {expected}.")
        return cls


def _import(path):
    """The object at a dotted path the caller listed in ``trusted``."""
    parts = path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:split])
        try:
            obj = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module.startswith(exc.name):
                continue  # no such module: the class path splits further left
            raise ValueError(f"trusted={path!r}: importing {module!r} failed: {exc!r}") from exc
        try:
            for name in parts[split:]:
                obj = getattr(obj, name)
        except AttributeError:
            break
        return obj
    raise ValueError(f"trusted={path!r}: no such class could be imported.")


def module_arguments(module, where):
    """The constructor arguments that rebuild ``module`` (an instance) from its class.

    Read back from attributes of the same names (scikit-learn's convention);
    refused when an argument is not stored that way.
    """
    arguments = {}
    for name, parameter in inspect.signature(type(module)).parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if not hasattr(module, name):
            if parameter.default is not parameter.empty:
                continue
            raise ValueError(
                f"Cannot save {where}: the {type(module).__name__} instance does not store its "
                f"constructor argument {name!r} as an attribute of that name, so it cannot be rebuilt "
                f"from its class. Pass the class instead, with its arguments as "
                f"<encoder|decoder>__{name}=..."
            )
        arguments[name] = getattr(module, name)
    return arguments


class Encoder:
    """Turns values into JSON-able trees; collects the arrays in ``arrays``."""

    def __init__(self):
        self.arrays = {}
        # Inside a fitted estimator's state, an estimator is fitted too (a custom
        # density's mixture, say): it keeps its attributes; elsewhere (parameters) it
        # is saved as clone() sees it.
        self._fitted = False

    def array(self, value, where):
        """Store an array (numpy or torch) under a fresh name; its reference."""
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
            if value.dtype not in (
                torch.float64,
                torch.float32,
                torch.float16,
                torch.int64,
                torch.uint8,
                torch.int32,
                torch.bool,
                torch.int8,
                torch.int16,
            ):
                raise ValueError(f"Cannot save {where}: tensors of dtype {value.dtype} are not supported.")
            value = value.numpy()
        if value.dtype.kind not in _ARRAY_KINDS:
            raise ValueError(f"Cannot save {where}: arrays of dtype {value.dtype} are not supported.")
        name = f"{len(self.arrays)}:{where}"
        self.arrays[name] = np.array(value, order="C")  # not ascontiguousarray: it makes 0-d arrays 1-d
        return name

    def __call__(self, value, where):
        if value is None or isinstance(value, bool | str):
            return value
        if isinstance(value, np.generic):
            if value.dtype.kind not in _ARRAY_KINDS or value.dtype.itemsize > 8:
                raise ValueError(
                    f"Cannot save {where}: numpy scalars of dtype {value.dtype} are not supported."
                )
            return {"__scalar__": value.item(), "dtype": value.dtype.str}
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, float):
            return value
        if isinstance(value, list):
            return [self(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, tuple):
            return {"__tuple__": [self(v, f"{where}[{i}]") for i, v in enumerate(value)]}
        if isinstance(value, dict):
            return {"__dict__": [[self(k, where), self(v, f"{where}[{k!r}]")] for k, v in value.items()]}
        if isinstance(value, np.ndarray) and value.dtype == object:
            if not all(isinstance(v, str) for v in value.flat):
                raise ValueError(f"Cannot save {where}: an object array that does not hold strings.")
            return {"__strings__": value.tolist()}
        if isinstance(value, np.ndarray):
            return {"__array__": self.array(value, where)}
        if isinstance(value, torch.Tensor):
            return {"__tensor__": self.array(value, where)}
        if isinstance(value, np.dtype):
            return {"__dtype__": value.str}
        if isinstance(value, torch.device):
            return {"__device__": str(value)}
        if isinstance(value, type):
            return {"__class__": class_path(value)}
        if isinstance(value, np.random.RandomState):
            name, keys, pos, has_gauss, cached = value.get_state()
            return {"__random_state__": [name, self.array(keys, where), pos, has_gauss, cached]}
        if dataclasses.is_dataclass(value):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return {"__dataclass__": class_path(type(value)), "fields": self(fields, where)}
        if isinstance(value, nn.Module):
            return self.module(value, where)
        if value is print:  # skorch callbacks' default sink
            return {"__function__": "builtins.print"}
        if hasattr(value, "get_params"):  # a scikit-learn estimator, a skorch callback
            return self.estimator(value, where, with_state=self._fitted)
        raise ValueError(
            f"Cannot save {where}: a value of type {type(value).__name__} is not supported by the file "
            f"format (pickle or joblib can store it, for your own files)."
        )

    def fitted_estimator(self, value, where):
        """A fitted estimator (the density of ``sample()``): rebuilt with its fitted attributes."""
        if isinstance(value, KernelDensity):
            # Its tree is compiled code's state: rebuilt by fitting again on the same
            # points, which gives the same tree and the same draws.
            weights = value.tree_.sample_weight
            return {
                "__object__": class_path(type(value)),
                "params": self(value.get_params(deep=False), where),
                "refit": self(
                    (np.asarray(value.tree_.data), None if weights is None else np.asarray(weights)), where
                ),
            }
        return self.estimator(value, where, with_state=True)

    def estimator(self, value, where, with_state):
        """An object rebuilt as ``cls(**params)``; ``with_state``: then given its other attributes back."""
        params = value.get_params(deep=False)
        state = {k: v for k, v in vars(value).items() if k not in params} if with_state else {}
        fitted, self._fitted = self._fitted, with_state
        try:
            return {
                "__object__": class_path(type(value)),
                "params": self(params, f"{where}.get_params()"),
                "state": self(state, where),
            }
        finally:
            self._fitted = fitted

    def module(self, value, where):
        """A network instance: its class, constructor arguments and weights, checked to rebuild."""
        arguments = module_arguments(value, where)
        with torch.random.fork_rng(devices=[]):
            try:
                rebuilt = type(value)(**arguments)
            except Exception as exc:
                raise ValueError(
                    f"Cannot save {where}: rebuilding {type(value).__name__}(**{arguments!r}) failed: {exc}"
                ) from exc
        state = value.state_dict()
        if repr(rebuilt) != repr(value) or {k: v.shape for k, v in rebuilt.state_dict().items()} != {
            k: v.shape for k, v in state.items()
        }:
            raise ValueError(
                f"Cannot save {where}: {type(value).__name__} rebuilt from its constructor arguments "
                f"{sorted(arguments)} is not the same network (its layers or weights' shapes differ). "
                f"Pass the class instead, with its arguments as <encoder|decoder>__<name>=..."
            )
        return {
            "__module__": class_path(type(value)),
            "arguments": self(arguments, where),
            "state_dict": self(dict(state), where),
        }


# Deeper trees than this are refused (the deepest a saved model has is about 10):
# Python's recursion limit must not be the check.
_MAX_DEPTH = 64


class Decoder:
    """Turns a document's trees back into values; resolves classes through a :class:`Trust`."""

    def __init__(self, arrays, trust):
        self.arrays = arrays
        self.trust = trust
        self._depth = 0

    def array(self, name):
        if not isinstance(name, str) or name not in self.arrays:
            raise ValueError(f"The file's arrays do not hold {name!r}, which its document refers to.")
        return self.arrays[name]

    def __call__(self, tree):
        if tree is None or isinstance(tree, bool | str | int | float):
            return tree
        if self._depth >= _MAX_DEPTH:
            raise ValueError(f"The file's document is nested more than {_MAX_DEPTH} levels deep.")
        self._depth += 1
        try:
            if isinstance(tree, list):
                return [self(v) for v in tree]
            if not isinstance(tree, dict) or len(tree) == 0:
                raise ValueError(f"The file's document holds {tree!r}, which is not a value of this format.")
            tag = next(iter(tree))
            try:
                return self._tagged(tag, tree[tag], tree)
            except (TypeError, KeyError, IndexError, AttributeError, OverflowError, RuntimeError) as exc:
                raise ValueError(f"The file's document holds a malformed {tag!r} entry: {exc!r}") from exc
        finally:
            self._depth -= 1

    def _tagged(self, tag, body, tree):
        if tag == "__tuple__":
            return tuple(self(v) for v in body)
        if tag == "__dict__":
            return {self(k): self(v) for k, v in body}
        if tag == "__scalar__":
            return np.dtype(tree["dtype"]).type(body)
        if tag == "__strings__":
            if not isinstance(body, list) or not all(isinstance(v, str) for v in body):
                raise ValueError(
                    "The file's document holds a '__strings__' entry that is not a list of strings."
                )
            return np.array(body, dtype=object)
        if tag == "__array__":
            return self.array(body)
        if tag == "__tensor__":
            return torch.from_numpy(self.array(body).copy())
        if tag == "__dtype__":
            return np.dtype(body)
        if tag == "__device__":
            return torch.device(body)
        if tag == "__class__":
            return self.trust.resolve(body)
        if tag == "__function__" and body == "builtins.print":
            return print
        if tag == "__random_state__":
            name, keys, pos, has_gauss, cached = body
            state = np.random.RandomState()
            state.set_state((name, self.array(keys), pos, has_gauss, cached))
            return state
        if tag == "__dataclass__":
            cls = self.trust.resolve(body, role="record")
            return cls(**self(tree["fields"]))
        if tag == "__module__":
            cls = self.trust.resolve(body, base=nn.Module, role="network")
            with torch.random.fork_rng(devices=[]):
                module = cls(**self(tree["arguments"]))
            load_weights(module, self(tree["state_dict"]), f"the {cls.__name__} network")
            return module
        if tag == "__object__":
            cls = self.trust.resolve(body, role="object")
            if issubclass(cls, nn.Module):
                raise ValueError(f"The file names the network {body!r} as an object, not as a network.")
            obj = cls(**self(tree["params"]))
            if "refit" in tree:
                if not isinstance(obj, KernelDensity):
                    raise ValueError(
                        f"The file asks to refit a {cls.__name__}: only KernelDensity is refitted."
                    )
                X, sample_weight = self(tree["refit"])
                return obj.fit(X, sample_weight=sample_weight)
            set_state(obj, self(tree["state"]))
            return obj
        raise ValueError(
            f"The file's document holds an entry tagged {tag!r}, which this format does not know."
        )


def set_state(obj, state, reserved=()):
    """Give ``obj`` its saved attributes: data only, never a parameter (``reserved`` and
    ``get_params``'s names) nor an attribute that hides a method or property."""
    if not isinstance(state, dict):
        raise ValueError(f"The file's state of its {type(obj).__name__} is not a mapping.")
    reserved = set(reserved) | set(obj.get_params(deep=False) if hasattr(obj, "get_params") else ())
    for key in state:
        if (
            not isinstance(key, str)
            or not key.isidentifier()
            or key.startswith("__")
            or hasattr(type(obj), key)
            or key in reserved
        ):
            raise ValueError(
                f"The file sets {key!r} on its {type(obj).__name__}, which is not a fitted attribute."
            )
    vars(obj).update(state)


def load_weights(module, state, what):
    """``module.load_state_dict(state)``, every key, shape and dtype as saved, or a clear ValueError."""
    expected = module.state_dict()
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"The file's weights of {what} are not a mapping of names to arrays.")
    for name, value in state.items():
        if name in expected and value.dtype != expected[name].dtype:
            raise ValueError(
                f"The file's weight {name!r} of {what} is {value.dtype}; the network holds "
                f"{expected[name].dtype}."
            )
    try:
        module.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"The file's weights do not fit {what}: {exc}") from exc

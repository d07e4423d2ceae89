"""The encoder and decoder: built in one place, from a registry of architectures.

``ARCHITECTURES`` maps each value of the estimators' ``architecture`` parameter
to the builders of its two networks. A network given as a class or an instance
(the ``encoder`` / ``decoder`` parameters) replaces the built-in one on its
side; either way the pair is checked on a dummy batch before training.
"""

import contextlib
import copy
import inspect
from dataclasses import dataclass

import torch
from torch import nn

from ._activations import ACTIVATIONS
from ._cnn import ConvDecoder, ConvEncoder

# What the estimator fills in when it builds a network class, for those of these
# names the class's constructor takes, and the parameter each value comes from.
NETWORK_ARGUMENTS = {"n_features": "the data", "latent_dim": "latent_dim", "input_shape": "input_shape"}

# Rows of the dummy batch that checks a network pair's shapes before training.
_CHECK_ROWS = 2


def make_mlp(n_in, hidden_layer_sizes, n_out, activation, dropout=None):
    """A plain MLP: Linear layers with ``activation`` between them, linear output.

    ``dropout`` (a float, 0 included) puts an ``nn.Dropout`` of that rate after
    each hidden activation, in the activation's slot (``Sequential(activation,
    Dropout)``), so that the Linear layers keep their indices: the weights' names
    are those of the same MLP without dropout, and a file saved before dropout
    existed still loads. The built-in decoder always has them (None: none), so
    that the decoder's second stage can set its own rate (:func:`dropout_rate`).
    """
    sizes = [n_in, *hidden_layer_sizes, n_out]
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        if i > 0:
            nonlinearity = ACTIVATIONS[activation]()
            layers.append(
                nonlinearity if dropout is None else nn.Sequential(nonlinearity, nn.Dropout(dropout))
            )
        layers.append(nn.Linear(a, b))
    return nn.Sequential(*layers)


@contextlib.contextmanager
def dropout_rate(network, p):
    """Within the block, every ``nn.Dropout`` of ``network`` drops a fraction ``p``; then as before.

    For the built-in MLP decoder only: its dropout layers are the package's own
    (:func:`make_mlp`), where a custom network's would be its author's choice.
    """
    layers = [m for m in network.modules() if isinstance(m, nn.Dropout)]
    before = [m.p for m in layers]
    for m in layers:
        m.p = p
    try:
        yield
    finally:
        for m, rate in zip(layers, before, strict=True):
            m.p = rate


@dataclass(frozen=True)
class NetworkSpec:
    """Everything the networks are built from, resolved and checked by the plan."""

    architecture: str
    n_features: int
    latent_dim: int
    input_shape: tuple | None
    hidden_layer_sizes: tuple
    decoder_hidden_layer_sizes: tuple | None
    activation: str
    encoder: object  # None, an nn.Module class, or an instance
    decoder: object
    encoder_kwargs: dict
    decoder_kwargs: dict
    # Dropout after each hidden activation of the built-in MLP decoder while training
    # (0: none; the second stage may set its own rate). A default, so that files saved
    # before it existed load as they were fitted.
    decoder_dropout: float = 0.0

    def build(self):
        """The (encoder, decoder) pair to train, checked on a dummy batch.

        Classes are instantiated here (inside the fit's seeded RNG scope, the
        encoder first); instances are deep-copied, so that fit never changes
        the estimator's parameters.
        """
        built_in = ARCHITECTURES[self.architecture]
        encoder = self._build("encoder", built_in.encoder)
        decoder = self._build("decoder", built_in.decoder)
        check_shapes(encoder, decoder, self.n_features, self.latent_dim)
        return encoder, decoder

    def _build(self, role, built_in):
        network = getattr(self, role)
        if isinstance(network, nn.Module):
            return copy.deepcopy(network)
        if network is None:
            return built_in(self)
        kwargs = getattr(self, f"{role}_kwargs")
        return construct(network, role, self, kwargs)


def construct(network_class, role, spec, kwargs):
    """``network_class(**kwargs)``, plus what the estimator fills in that it takes."""
    given = {"n_features": spec.n_features, "latent_dim": spec.latent_dim, "input_shape": spec.input_shape}
    kwargs = {**_accepted_arguments(network_class, given), **kwargs}
    try:
        return network_class(**kwargs)
    except (TypeError, ValueError) as exc:
        raise type(exc)(
            f"Could not build the {role} {network_class.__name__}(**{kwargs!r}): {exc}. Arguments go "
            f"to it as {role}__<name>=...; the estimator passes n_features, latent_dim and "
            f"input_shape to the constructors that take them."
        ) from exc


def _accepted_arguments(network_class, given):
    """The entries of ``given`` that ``network_class``'s constructor takes by name."""
    try:
        parameters = inspect.signature(network_class).parameters
    except (TypeError, ValueError):  # no introspectable signature: pass nothing
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return {k: v for k, v in given.items() if v is not None}
    return {k: v for k, v in given.items() if k in parameters}


# -- the built-in architectures ---------------------------------------------------------


def _mlp_encoder(spec):
    return make_mlp(spec.n_features, spec.hidden_layer_sizes, spec.latent_dim, spec.activation)


def _mlp_decoder(spec):
    sizes = spec.decoder_hidden_layer_sizes
    if sizes is None:
        sizes = tuple(reversed(spec.hidden_layer_sizes))
    return make_mlp(spec.latent_dim, sizes, spec.n_features, spec.activation, spec.decoder_dropout)


def _cnn_encoder(spec):
    kwargs = {"activation": spec.activation, **spec.encoder_kwargs}
    return construct(ConvEncoder, "encoder", spec, kwargs)


def _cnn_decoder(spec):
    # The built-in decoder mirrors the encoder's layers unless told otherwise.
    mirrored = {k: spec.encoder_kwargs[k] for k in ("channels", "kernel_size") if k in spec.encoder_kwargs}
    kwargs = {"activation": spec.activation, **mirrored, **spec.decoder_kwargs}
    return construct(ConvDecoder, "decoder", spec, kwargs)


@dataclass(frozen=True)
class Architecture:
    """The builders of one built-in pair, and what it needs from the parameters."""

    encoder: object
    decoder: object
    # Whether the built-in networks take encoder__<name> / decoder__<name> arguments.
    takes_kwargs: bool
    needs_input_shape: bool


ARCHITECTURES = {
    "mlp": Architecture(_mlp_encoder, _mlp_decoder, takes_kwargs=False, needs_input_shape=False),
    "cnn": Architecture(_cnn_encoder, _cnn_decoder, takes_kwargs=True, needs_input_shape=True),
}


def check_network_param(role, network, routed, architecture):
    """``encoder`` / ``decoder`` is None, an nn.Module class or instance, with fitting kwargs."""
    if isinstance(network, type) and not issubclass(network, nn.Module):
        raise TypeError(f"'{role}' must be a torch.nn.Module subclass or instance, or None. Got {network!r}.")
    routed = sorted(routed)
    names = ", ".join(f"{role}__{k}" for k in routed)
    verb = "applies" if len(routed) == 1 else "apply"
    article = "an" if role == "encoder" else "a"
    if routed and isinstance(network, nn.Module):
        raise ValueError(
            f"{names} only {verb} when '{role}' is a class; '{role}' is an instance "
            f"({type(network).__name__}): configure it before passing it."
        )
    if routed and network is None and not ARCHITECTURES[architecture].takes_kwargs:
        raise ValueError(
            f"{names} only {verb} to {article} '{role}' class or to the built-in CNN "
            f"(architecture='cnn'); the built-in MLP is set by hidden_layer_sizes, "
            f"decoder_hidden_layer_sizes and activation."
        )
    taken = sorted(set(routed) & set(NETWORK_ARGUMENTS))
    if taken:
        raise ValueError(
            f"'{role}__{taken[0]}' cannot be set: the estimator passes {taken[0]} from "
            f"{NETWORK_ARGUMENTS[taken[0]]}."
        )


def _describe(output):
    if isinstance(output, torch.Tensor):
        return f"a tensor of shape {tuple(output.shape)} and dtype {output.dtype}"
    return f"an object of type {type(output).__name__}"


def check_shapes(encoder, decoder, n_features, latent_dim):
    """Run a dummy batch through both networks; raise if a shape does not line up.

    The networks are put in evaluation mode for it (no dropout, no batch
    statistics updated) and given back in the mode they had.
    """
    for role, network, n_in, n_out, expected in (
        ("encoder", encoder, n_features, latent_dim, "latent_dim"),
        ("decoder", decoder, latent_dim, n_features, "n_features"),
    ):
        if not isinstance(network, nn.Module):
            raise TypeError(f"'{role}' must build a torch.nn.Module. It gave {network!r}.")
        parameter = next(iter(network.parameters()), None)
        dummy = torch.zeros(_CHECK_ROWS, n_in, device=None if parameter is None else parameter.device)
        was_training = network.training
        network.eval()
        try:
            with torch.no_grad():
                output = network(dummy)
        except Exception as exc:
            raise ValueError(
                f"The {role} {type(network).__name__} failed on a batch of shape {tuple(dummy.shape)}: "
                f"{exc}. The {role} must map (batch, {n_in}) to (batch, {n_out})."
            ) from exc
        finally:
            network.train(was_training)
        ok = (
            isinstance(output, torch.Tensor)
            and output.is_floating_point()
            and tuple(output.shape) == (_CHECK_ROWS, n_out)
        )
        if not ok:
            source = "n_features of X" if role == "decoder" else "the estimator's latent_dim"
            raise ValueError(
                f"The {role} {type(network).__name__} must map a float batch of shape (batch, {n_in}) to "
                f"(batch, {n_out}) ({expected}={n_out} from {source}); on a batch of shape "
                f"{tuple(dummy.shape)} it returned {_describe(output)}."
            )

"""Torch modules: the MLP encoder and decoder, and the RRAE that joins them."""

import torch
from torch import nn

from ._truncation import rank_truncate

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "identity": nn.Identity,
}


def make_mlp(n_in, hidden_layer_sizes, n_out, activation):
    """A plain MLP: Linear layers with ``activation`` between them, linear output."""
    sizes = [n_in, *hidden_layer_sizes, n_out]
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        if i > 0:
            layers.append(ACTIVATIONS[activation]())
        layers.append(nn.Linear(a, b))
    return nn.Sequential(*layers)


class RRAEModule(nn.Module):
    """Encoder, rank truncation of the batch latent, decoder.

    Parameters
    ----------
    n_features : int
        Input (and output) width.
    latent_dim : int
        Length ``L`` of the latent vector of each sample.
    n_components : int or None
        Rank kept in each batch latent; None disables the truncation.
    hidden_layer_sizes : tuple of int
        Encoder widths.
    decoder_hidden_layer_sizes : tuple of int or None
        Decoder widths; None mirrors the encoder.
    activation : str
        Key of :data:`ACTIVATIONS`.
    encoder, decoder : torch.nn.Module or None, default=None
        Networks to use instead of the MLPs built from the sizes above: the
        encoder maps ``(batch, n_features)`` to ``(batch, latent_dim)``, the
        decoder maps back. They become submodules as they are (not copied).

    Notes
    -----
    In training mode the batch latent is truncated to rank ``n_components``
    (the RRAE forward pass). Once a global basis is stored with
    :meth:`set_basis`, evaluation mode projects on it instead, so that a sample's
    reconstruction does not depend on the other samples of its batch.
    """

    def __init__(
        self,
        n_features,
        latent_dim,
        n_components,
        hidden_layer_sizes,
        decoder_hidden_layer_sizes=None,
        activation="relu",
        encoder=None,
        decoder=None,
    ):
        super().__init__()
        if decoder_hidden_layer_sizes is None:
            decoder_hidden_layer_sizes = tuple(reversed(hidden_layer_sizes))
        self.n_components = n_components
        # Built in this order so that the default MLPs draw the same initial weights
        # as before custom networks existed.
        self.encoder = (
            make_mlp(n_features, hidden_layer_sizes, latent_dim, activation) if encoder is None else encoder
        )
        self.decoder = (
            make_mlp(latent_dim, decoder_hidden_layer_sizes, n_features, activation)
            if decoder is None
            else decoder
        )
        self.register_buffer("basis", torch.zeros(0, latent_dim))
        # Fixed per-feature gain on the decoder's output (the feature's spread in the
        # training data): constant features come back exactly, small ones stay small.
        self.register_buffer("output_scale", torch.ones(n_features))

    def set_basis(self, basis):
        """Store the global latent basis, shape (n_components, latent_dim)."""
        self.basis = basis.to(self.basis)

    def encode(self, X):
        return self.encoder(X)

    def project(self, Z):
        """Rank-limit a batch latent: batch SVD in training, global basis otherwise."""
        if self.n_components is None:
            return Z
        if self.training or self.basis.shape[0] == 0:
            return rank_truncate(Z, self.n_components)
        return (Z @ self.basis.mT) @ self.basis

    def decode(self, Z):
        return self.decoder(Z) * self.output_scale

    def to_codes(self, X):
        """Coefficients of each row on the global basis (what ``transform`` returns).

        Without truncation the code is the latent itself.
        """
        Z = self.encode(X)
        return Z if self.n_components is None else Z @ self.basis.mT

    def from_codes(self, C):
        """Decode coefficients on the global basis (what ``inverse_transform`` does)."""
        return self.decode(C if self.n_components is None else C @ self.basis)

    def forward(self, X):
        return self.decode(self.project(self.encode(X)))

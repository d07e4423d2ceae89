"""The torch module of an RRAE: encoder, rank truncation of the batch latent, decoder."""

import torch
from torch import nn

from ._truncation import rank_truncate

# The codes are computed against a basis of at least this many rows (zero beyond
# the stored ones), then sliced: float32 GEMM with 1 to 11 output columns rounds
# differently from 12 and more (MKL, measured on this AMD EPYC and before on an
# Intel Xeon, 1 and 2 threads), so without it the first r codes of a rank-k model
# were not bit for bit those of its at_rank(r) copy.
_MIN_BASIS_ROWS = 16


class RRAEModule(nn.Module):
    """Encoder, rank truncation of the batch latent, decoder.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps ``(batch, n_features)`` to ``(batch, latent_dim)``.
    decoder : torch.nn.Module
        Maps ``(batch, latent_dim)`` back to ``(batch, n_features)``.
    latent_dim : int
        Length ``L`` of the latent vector of each sample.
    n_components : int or None
        Rank kept in each batch latent during training; None disables the
        truncation. A rank schedule may change it while training runs.
    output_gain : array-like of shape (n_features,)
        Fixed per-feature gain on the decoder's output (the feature's spread in
        the training data, in model units): constant features come back exactly,
        small ones stay small.
    truncation : callable, default=rank_truncate
        ``truncation(Z, k)``: the rank-``k`` approximation of a batch latent.
    eval_truncation : callable or None, default=None
        The truncation in evaluation mode before a basis is stored (the
        validation batches); None: ``truncation``. A nested model trains each row
        at its own rank and is validated at the full rank.

    Notes
    -----
    In training mode the batch latent is truncated to rank ``n_components``
    (the RRAE forward pass). Once a global basis is stored with
    :meth:`set_basis`, evaluation mode projects on it instead, so that a
    sample's reconstruction does not depend on the other samples of its batch.
    """

    def __init__(
        self,
        encoder,
        decoder,
        latent_dim,
        n_components,
        output_gain,
        truncation=rank_truncate,
        eval_truncation=None,
    ):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.n_components = n_components
        self.truncation = truncation
        self.eval_truncation = truncation if eval_truncation is None else eval_truncation
        self.register_buffer("basis", torch.zeros(0, latent_dim))
        self.register_buffer("output_gain", torch.as_tensor(output_gain, dtype=torch.float32))

    def set_basis(self, basis):
        """Store the global latent basis, shape (n_codes, latent_dim), orthonormal rows."""
        self.basis = torch.as_tensor(basis).to(self.basis)

    def encode(self, X):
        return self.encoder(X)

    def truncate(self, Z):
        """The batch latent ``Z`` at rank ``n_components`` (the RRAE training step)."""
        if self.n_components is None:
            return Z
        truncation = self.truncation if self.training else self.eval_truncation
        return truncation(Z, self.n_components)

    def project(self, Z):
        """Each latent row projected on the stored global basis."""
        return (Z @ self.basis.mT) @ self.basis

    def decode(self, Z):
        return self.decoder(Z) * self.output_gain

    def to_codes(self, X):
        """Coefficients of each row on the global basis (what ``transform`` returns)."""
        n_codes = self.basis.shape[0]
        basis = self.basis
        if n_codes < _MIN_BASIS_ROWS:
            basis = torch.cat([basis, basis.new_zeros(_MIN_BASIS_ROWS - n_codes, basis.shape[1])])
        return (self.encode(X) @ basis.mT)[:, :n_codes]

    def from_codes(self, C):
        """Decode coefficients on the global basis (what ``inverse_transform`` does)."""
        return self.decode(C @ self.basis)

    def forward(self, X):
        Z = self.encode(X)
        if self.training or self.basis.shape[0] == 0:
            return self.decode(self.truncate(Z))
        return self.decode(self.project(Z))

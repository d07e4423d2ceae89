"""Does a model that starts as PCA fix the defaults' losses to PCA (issue 17's lead)?

Usage: python benchmarks/studies/pca_start.py [--seeds 0,1,2] [--only NAME ...] [--variants ...]

A prototype through the public API (custom ``encoder`` / ``decoder`` classes),
on the rows of ``benchmarks/pca_panel.py``. The encoder is the exact PCA map of the
training data in the model's units (frozen) onto the first k latent coordinates,
plus the default MLP (256, 256, SiLU) as a residual whose last layer starts at
zero; the decoder is PCA's reconstruction from those k coordinates (divided by the
decoder's fixed per-feature gain, which multiplies its output) plus a residual MLP
that starts at zero. Training therefore starts at PCA's solution. Variants:

- ``default``: ``RRAETransformer(n_components=k)`` as it is;
- ``pca-start``: the prototype, every other setting at its default;
- ``pca-start+es``: the same with ``early_stopping=True`` (validation stopping and
  going back to the best epoch, which near the start means near PCA).

Any variant may end in ``@name=value,name=value`` to set other parameters, e.g.
``pca-start@lr=1e-4`` or ``pca-start+es@n_iter_no_change=50``.

Prints the held-out MSE over PCA's, median (worst) over seeds, per variant.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

# Run as `python benchmarks/studies/pca_start.py`: put benchmarks/ on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch
from _common import machine
from pca_panel import PANEL, reconstruction_mse
from sklearn.decomposition import PCA
from torch import nn

from sklearn_rrae import RRAETransformer
from sklearn_rrae._networks import make_mlp
from sklearn_rrae._scaling import Scaling


def _zero_last_layer(mlp):
    last = [m for m in mlp if isinstance(m, nn.Linear)][-1]
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return mlp


class PCAStartEncoder(nn.Module):
    def __init__(self, n_features, latent_dim, components):
        super().__init__()
        self.register_buffer("components", torch.as_tensor(components, dtype=torch.float32))
        self.residual = _zero_last_layer(make_mlp(n_features, (256, 256), latent_dim, "silu"))

    def forward(self, X):
        Z = self.residual(X)
        k = self.components.shape[0]
        return torch.cat([Z[:, :k] + X @ self.components.mT, Z[:, k:]], dim=1)


class PCAStartDecoder(nn.Module):
    def __init__(self, n_features, latent_dim, components, gain):
        super().__init__()
        self.register_buffer("components", torch.as_tensor(components, dtype=torch.float32))
        gain = np.asarray(gain, dtype=np.float64)
        inverse = np.divide(1.0, gain, out=np.zeros_like(gain), where=gain > 0)
        self.register_buffer("inverse_gain", torch.as_tensor(inverse, dtype=torch.float32))
        self.residual = _zero_last_layer(make_mlp(latent_dim, (256, 256), n_features, "silu"))

    def forward(self, Z):
        k = self.components.shape[0]
        return (Z[:, :k] @ self.components) * self.inverse_gain + self.residual(Z)


def _params(variant):
    """The parameters after ``@`` in a variant's name, as numbers."""
    _, _, given = variant.partition("@")
    pairs = (item.split("=") for item in given.split(",") if item)
    return {name: (int(value) if value.isdigit() else float(value)) for name, value in pairs}


def model(variant, k, seed, X_train):
    extra = _params(variant)
    variant = variant.partition("@")[0]
    if variant == "default":
        return RRAETransformer(n_components=k, random_state=seed, **extra)
    scaling = Scaling.of(X_train)
    components = PCA(n_components=k).fit(scaling.to_model(X_train)).components_
    return RRAETransformer(
        n_components=k,
        random_state=seed,
        early_stopping=variant.endswith("+es"),
        encoder=PCAStartEncoder,
        encoder__components=components,
        decoder=PCAStartDecoder,
        decoder__components=components,
        decoder__gain=scaling.decoder_gain,
        **extra,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--variants", nargs="+", default=["default", "pca-start", "pca-start+es"])
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    panel = [row for row in PANEL if not args.only or any(row[0].startswith(p) for p in args.only)]
    print(f"machine: {machine()}\nseeds: {seeds}\n")
    cells = " | ".join(f"{v}: ratio, median (worst) | {v}: fit (s)" for v in args.variants)
    print(f"| data | k | {cells} |")
    print("|---" * (2 + 2 * len(args.variants)) + "|")
    for name, load, ranks, _ in panel:
        X_train, X_test = load()
        for k in ranks:
            pca = PCA(n_components=k).fit(X_train)
            pca_test = reconstruction_mse(pca, X_test)
            row = []
            for variant in args.variants:
                ratios, times = [], []
                for seed in seeds:
                    start = time.perf_counter()
                    fitted = model(variant, k, seed, X_train).fit(X_train)
                    times.append(time.perf_counter() - start)
                    ratios.append(reconstruction_mse(fitted, X_test) / pca_test)
                ratio = f"{statistics.median(ratios):.3f} ({max(ratios):.3f})"
                row.append(f"{ratio} | {statistics.median(times):.1f}")
            print(f"| {name} | {k} | {' | '.join(row)} |", flush=True)


if __name__ == "__main__":
    main()

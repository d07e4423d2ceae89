"""Study: the variational variant (VRRAE) and random weights for sample() on MNIST-20k, k = 10.

Usage: python benchmarks/studies/vrrae_generation.py [--seeds 0 1 2] [--variants ...] [--beta 1e-3]

The protocol of ``benchmarks/generation.py`` (its feature extractor, 10,000 test
images, ``sample()`` with the default density). Variants: ``plain`` (defaults),
``random`` (``init="random"``), ``vrrae`` and ``vrrae-random``: the batch's
rank-10 coefficients on its own kept singular vectors are the mean, a linear
head on the latent gives their log-variance (starting at 0: the prior's sigma),
training decodes ``Z_k + (sigma * eps) V_k^T`` and adds ``beta`` times the KL
divergence to N(0, I) (summed over the coefficients, averaged over the rows) to
the model-unit MSE. The VRRAE is built by replacing the package's private module
class for the fit (``sklearn_rrae._net.RRAEModule``) and its net's ``get_loss``;
transform, the basis and the density are the package's.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import machine, mse  # noqa: E402
from generation import study_protocol  # noqa: E402

import sklearn_rrae._net as _net  # noqa: E402
from sklearn_rrae import RRAETransformer  # noqa: E402
from sklearn_rrae._module import RRAEModule  # noqa: E402
from sklearn_rrae._training_net import TrainingNet  # noqa: E402
from sklearn_rrae.metrics import frechet_distance, precision_recall  # noqa: E402

KL_WEIGHT = [0.0]


class VariationalModule(RRAEModule):
    """RRAEModule whose training pass samples the coefficients around the truncated latent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.log_variance = nn.Linear(self.basis.shape[1], self.n_components)
        nn.init.zeros_(self.log_variance.weight)
        nn.init.zeros_(self.log_variance.bias)
        self.kl = None

    def forward(self, X):
        if not self.training:
            self.kl = None
            return super().forward(X)
        Z = self.encode(X)
        Z_k = self.truncate(Z)
        with torch.no_grad():
            V = torch.linalg.eigh(Z_k.T @ Z_k)[1][:, -self.n_components :]
        mean = Z_k @ V
        log_var = self.log_variance(Z)
        noise = torch.exp(0.5 * log_var) * torch.randn_like(log_var)
        self.kl = 0.5 * (mean**2 + log_var.exp() - 1 - log_var).sum(1).mean()
        return self.decode(Z_k + noise @ V.T)


_get_loss = TrainingNet.get_loss


def get_loss(self, y_pred, y_true, X=None, training=False):
    loss = _get_loss(self, y_pred, y_true, X=X, training=training)
    kl = getattr(self.module_, "kl", None)
    return loss + KL_WEIGHT[0] * kl if training and kl is not None else loss


TrainingNet.get_loss = get_loss


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=["plain", "vrrae", "random", "vrrae-random"])
    parser.add_argument("--beta", type=float, default=1e-3)
    args = parser.parse_args()
    print(f"machine: {machine()}\n", flush=True)
    X, X_test, features, test, test_features, _ = study_protocol()
    for seed in args.seeds:
        for variant in args.variants:
            variational = variant.startswith("vrrae")
            _net.RRAEModule = VariationalModule if variational else RRAEModule
            KL_WEIGHT[0] = args.beta if variational else 0.0
            start = time.perf_counter()
            init = "random" if variant.endswith("random") else "auto"
            model = RRAETransformer(n_components=10, init=init, random_state=seed).fit(X)
            fit = time.perf_counter() - start
            _net.RRAEModule = RRAEModule
            held_out = mse(X_test, model.inverse_transform(model.transform(X_test)))
            recon = frechet_distance(
                features(np.clip(model.inverse_transform(model.transform(test)), 0, 1)), test_features
            )
            sampled = features(np.clip(model.sample(10_000, random_state=seed), 0, 1))
            precision, recall = precision_recall(test_features, sampled)
            sigma = ""
            if variational:
                sigma = f", sigma {model.module_.log_variance.bias.detach().mul(0.5).exp().mean():.3g}"
            print(
                f"seed {seed} {variant}: FD {frechet_distance(sampled, test_features):.2f}, reconstructions' "
                f"FD {recon:.2f}, precision {precision:.3f}, recall {recall:.3f}, held-out MSE "
                f"{held_out:.5f}, fit {fit:.1f} s{sigma}",
                flush=True,
            )


if __name__ == "__main__":
    main()

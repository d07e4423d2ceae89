"""Which global latent basis gives the lowest held-out error?

Usage: python benchmarks/studies/basis_recipes.py [--skip-mnist]

The reference (section 2) describes two recipes to turn the batch-wise truncation
of training into one basis for ``transform``:

- "full SVD": top-k right singular vectors of the whole encoded training set
  (what RRAETransformer stores; computed from the L x L Gram matrix);
- "stacked batches": top-k right singular vectors of each batch latent, stacked
  side by side, then the top-k left singular vectors of that stack;

each optionally followed by a fine-tuning of the decoder with the encoder and the
basis frozen. Every variant starts from the same fitted model (default settings,
random_state=0); the table shows the held-out error of each.
"""

import argparse
import copy
import sys
from pathlib import Path

# Run as `python benchmarks/studies/basis_recipes.py`: put benchmarks/ on the path for _common.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch
from _common import digits, mnist, mse, relative_error, shifted_sine

from sklearn_rrae import RRAETransformer

PROBLEMS = [("digits 70/30", digits, 5), ("MNIST-20k", mnist, 10), ("shifted sine", shifted_sine, 1)]
FINETUNE_EPOCHS = 20


def _encode_train(est, X_train):
    module = est.module_
    module.eval()
    with torch.no_grad():
        return module.encode(torch.as_tensor(est._scaling.to_model(X_train)))


def stacked_batch_basis(est, X_train, seed=0):
    k = est.n_components_
    Z = _encode_train(est, X_train).double()
    batch = min(est.batch_size, len(Z))
    order = torch.randperm(len(Z), generator=torch.Generator().manual_seed(seed))
    blocks = []
    for start in range(0, len(Z) - k, batch):
        _, _, Vh = torch.linalg.svd(Z[order[start : start + batch]], full_matrices=False)
        blocks.append(Vh[:k].mT)
    U, _, _ = torch.linalg.svd(torch.cat(blocks, dim=1), full_matrices=False)
    return U[:, :k].mT


def with_basis(est, basis):
    est = copy.deepcopy(est)
    est.module_.set_basis(basis.float())
    est.components_ = basis.numpy()
    return est


def finetune_decoder(est, X_train, epochs=FINETUNE_EPOCHS, seed=0):
    est = copy.deepcopy(est)
    module = est.module_
    X = torch.as_tensor(est._scaling.to_model(X_train))
    with torch.no_grad():
        module.eval()
        projected = module.encode(X) @ module.basis.mT @ module.basis
    optimizer = torch.optim.Adam(module.decoder.parameters(), lr=est.lr)
    g = torch.Generator().manual_seed(seed)
    batch = min(est.batch_size, len(X))
    module.train()
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=g)
        for start in range(0, len(X), batch):
            idx = order[start : start + batch]
            loss = torch.nn.functional.mse_loss(module.decode(projected[idx]), X[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    module.eval()
    return est


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-mnist", action="store_true")
    args = parser.parse_args()
    print(
        "| problem | k | full SVD | stacked batches | full SVD + decoder fine-tune | "
        "stacked + fine-tune | subspace angle (deg) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, load, k in PROBLEMS:
        if args.skip_mnist and "MNIST" in name:
            continue
        X_train, X_test = load()
        est = RRAETransformer(n_components=k, random_state=0).fit(X_train)
        stacked = with_basis(est, stacked_batch_basis(est, X_train))
        variants = [est, stacked, finetune_decoder(est, X_train), finetune_decoder(stacked, X_train)]
        metric = relative_error if "sine" in name else mse
        errors = [metric(X_test, m.inverse_transform(m.transform(X_test))) for m in variants]
        cosines = np.linalg.svd(est.components_ @ stacked.components_.T, compute_uv=False)
        angle = float(np.degrees(np.arccos(np.clip(cosines.min(), -1, 1))))
        shown = [f"{e:.2%}" if "sine" in name else f"{e:.4f}" for e in errors]
        print(f"| {name} | {k} | " + " | ".join(shown) + f" | {angle:.2f} |", flush=True)
    print("\nMSE, or relative error for the shifted sine; lower is better.")


if __name__ == "__main__":
    main()

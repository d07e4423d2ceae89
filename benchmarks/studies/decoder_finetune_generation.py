"""Does the authors' second stage (the decoder fine-tuned on the global basis) make better samples (issue 19)?

Usage: python benchmarks/studies/decoder_finetune_generation.py [--epochs 10] [--seeds 0,1,2]

MNIST, the first 20,000 training images, ``RRAETransformer(n_components=10,
random_state=seed)`` with defaults, the protocol of ``benchmarks/generation.py``
(its feature extractor, 10,000 samples against 10,000 test images). For each seed:
the Fréchet distance, precision and recall of ``sample()`` and the held-out MSE,
then the same after the decoder alone is trained ``--epochs`` more epochs (Adam,
lr 1e-3, batches of 256) on the training latents projected on the stored basis,
``d(e(x) U U^T)``, with the encoder and the basis fixed: the path ``transform`` /
``inverse_transform`` and ``sample()`` use, where training used each batch's own
truncation. The density is refitted on the same codes (the encoder is unchanged, so
the codes are too). Written against private attributes (``module_``,
``_scaling``); a study, not the package's API.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _common import images  # noqa: E402
from generation import N_TRAIN, feature_extractor  # noqa: E402

from sklearn_rrae import RRAETransformer  # noqa: E402
from sklearn_rrae.metrics import frechet_distance, precision_recall  # noqa: E402


def finetune_decoder(model, X, epochs, seed, lr=1e-3, batch_size=256):
    module = model.module_
    X_model = torch.as_tensor(model._scaling.to_model(X), dtype=torch.float32)
    with torch.no_grad():
        Z = module.project(module.encode(X_model))
    optimizer = torch.optim.Adam(module.decoder.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    module.train()
    for _ in range(epochs):
        for index in torch.randperm(len(X_model), generator=generator).split(batch_size):
            optimizer.zero_grad()
            ((module.decode(Z[index]) - X_model[index]) ** 2).mean().backward()
            optimizer.step()
    module.eval()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    X_all, y_all, X_test, _ = images("mnist")
    X_train = X_all[:N_TRAIN]
    features, _ = feature_extractor(X_all, y_all)
    test_features = features(X_test[np.random.RandomState(1).choice(len(X_test), 10_000, replace=False)])

    def measure(model):
        f = features(np.clip(model.sample(10_000, random_state=0), 0, 1))
        precision, recall = precision_recall(test_features, f, k=3)
        held_out = float(((X_test - model.inverse_transform(model.transform(X_test))) ** 2).mean())
        return f"{frechet_distance(f, test_features):.2f} | {precision:.3f} | {recall:.3f} | {held_out:.5f}"

    print(
        f"| seed | FD | precision | recall | held-out MSE | FD, +{args.epochs} decoder epochs | precision | "
        "recall | held-out MSE | fine-tune (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for seed in [int(s) for s in args.seeds.split(",")]:
        model = RRAETransformer(n_components=10, random_state=seed).fit(X_train)
        before = measure(model)
        start = time.perf_counter()
        finetune_decoder(model, X_train, args.epochs, seed)
        seconds = time.perf_counter() - start
        print(f"| {seed} | {before} | {measure(model)} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()

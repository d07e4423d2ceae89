"""Random generation: how realistic and how varied are the samples of each model?

Usage: python benchmarks/generation.py [--skip-cnn] [--n-samples 10000] [--figure PATH] [--skip-mnist]
       [--k 5 10] [--seeds 0 1 2]

MNIST, the first 20,000 training images, defaults otherwise. A feature extractor
is trained here on all 60,000 training images (an MLP classifier 784-256-128-10;
the features are its 128-unit penultimate layer, after the ReLU). Each model
draws ``--n-samples`` samples, compared with as many test images: the Fréchet
distance of the features (lower is better) and precision / recall in the
k-nearest-neighbour sense (k=3). Models: RRAE (k=5 and 10, MLP and CNN) with its
``sample()``; PCA(k) with the same density (``GaussianMixture(10, "full")`` on at
most 5,000 training codes, as ``sample()`` does); the vanilla autoencoder with a
k-long latent (``RRAETransformer(n_components=None, latent_dim=k)``, the same
network, its ``sample()``), and the same with 30 epochs instead of 20 (as many decoder
passes as the RRAE's two stages); training images themselves (the floor). Each model is
fitted and sampled with ``random_state`` = each of ``--seeds``: medians, and the
Fréchet distance of each seed.

Then the paper's random-sampling experiment on the 2-D Gaussian blob
(``datasets.make_gaussian_blob``, k=2): for each of 1,000 samples, the relative
error to the nearest true blob, its centre searched on a grid of step 0.01 over
the training range [-0.5, 0.5]^2 and refined on a grid of step 0.001 around the
best one; the share of samples within 10 %.
"""

import argparse
import time

import numpy as np
import torch
from _common import images, machine
from sklearn.decomposition import PCA

from sklearn_rrae import RRAETransformer
from sklearn_rrae._data import summary_rows
from sklearn_rrae._density import draw, fit_density
from sklearn_rrae.datasets import make_gaussian_blob
from sklearn_rrae.metrics import frechet_distance, precision_recall

N_TRAIN = 20_000


def feature_extractor(X, y, seed=0, epochs=5):
    """An MLP classifier trained on (X, y): ``(features, accuracy)`` functions of its layers."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(X.shape[1], 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.long)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(Xt), generator=gen).split(256):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(Xt[idx]), yt[idx]).backward()
            opt.step()
    net.eval()

    def features(A):
        with torch.no_grad():
            return net[:4](torch.tensor(np.asarray(A), dtype=torch.float32)).numpy().astype(np.float64)

    def accuracy(A, labels):
        with torch.no_grad():
            return float((net(torch.tensor(A, dtype=torch.float32)).argmax(1).numpy() == labels).mean())

    return features, accuracy


def study_protocol(n=10_000):
    """The data and features of this benchmark, which the studies of ``benchmarks/studies`` share.

    ``(X_train, X_test, features, test, test_features, test_accuracy)``: the first
    ``N_TRAIN`` training images, the 10,000 test images, the feature map, the ``n``
    test images the samples are compared with and their features, and the feature
    extractor's accuracy on the test images.
    """
    X_all, y_all, X_test, y_test = images("mnist")
    features, accuracy = feature_extractor(X_all, y_all)
    test = X_test[np.random.RandomState(1).choice(len(X_test), min(n, len(X_test)), replace=False)]
    return X_all[:N_TRAIN], X_test, features, test, features(test), accuracy(X_test, y_test)


def pca_samples(X, k, n, seed=0):
    pca = PCA(k, random_state=seed).fit(X)
    codes = pca.transform(X)
    rows = summary_rows(len(codes), seed)
    density = fit_density(None, codes if rows is None else codes[rows], seed)
    return pca.inverse_transform(draw(density, n, seed))


def models(k_values, skip_cnn):
    """``(name, make)`` of each model, ``make(seed)`` an unfitted estimator (None: PCA + GMM)."""
    for k in k_values:
        yield f"RRAE MLP, k={k}", lambda seed, k=k: RRAETransformer(n_components=k, random_state=seed)
        if not skip_cnn:
            yield (
                f"RRAE CNN, k={k}",
                lambda seed, k=k: RRAETransformer(
                    n_components=k, architecture="cnn", input_shape=(28, 28), random_state=seed
                ),
            )
        yield (
            f"vanilla AE, latent {k}",
            lambda seed, k=k: RRAETransformer(n_components=None, latent_dim=k, random_state=seed),
        )
        # The RRAE's second stage trains the decoder 10 more epochs (decoder_epochs="auto"
        # on MNIST-20k): the vanilla autoencoder with as many decoder passes, 30 epochs.
        yield (
            f"vanilla AE, latent {k}, 30 epochs",
            lambda seed, k=k: RRAETransformer(
                n_components=None, latent_dim=k, max_epochs=30, random_state=seed
            ),
        )
        yield f"PCA + GMM, k={k}", None


def blob_experiment(n_samples=1000, seed=0):
    X_train, _, _, _ = make_gaussian_blob(random_state=0)
    start = time.perf_counter()
    model = RRAETransformer(n_components=2, random_state=seed).fit(X_train)
    fit_seconds = time.perf_counter() - start
    samples = model.sample(n_samples, random_state=seed)
    axis = np.linspace(-1, 1, 64)
    u, v = (a.ravel() for a in np.meshgrid(axis, axis, indexing="ij"))

    def blobs(centres):
        return np.exp(-((u - centres[:, :1]) ** 2 + (v - centres[:, 1:]) ** 2) / (2 * 0.2**2))

    coarse = np.stack([a.ravel() for a in np.meshgrid(*[np.linspace(-0.5, 0.5, 101)] * 2, indexing="ij")], 1)
    B = blobs(coarse).astype(np.float32)
    norms = (B.astype(np.float64) ** 2).sum(1)
    errors = np.empty(n_samples)
    for s0 in range(0, n_samples, 100):
        S = samples[s0 : s0 + 100]
        d2 = (S**2).sum(1)[:, None] - 2 * S.astype(np.float32) @ B.T + norms[None, :]
        for i, best in enumerate(np.argmin(d2, axis=1)):
            fine = np.stack(
                [
                    a.ravel()
                    for a in np.meshgrid(
                        *[c + np.linspace(-0.01, 0.01, 21) for c in coarse[best]], indexing="ij"
                    )
                ],
                1,
            )
            F = blobs(fine)
            e = np.linalg.norm(F - S[i], axis=1) / np.linalg.norm(F, axis=1)
            errors[s0 + i] = e.min()
    return float(np.mean(errors <= 0.10)), float(np.median(errors)), fit_seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-cnn", action="store_true")
    parser.add_argument("--skip-mnist", action="store_true")
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--k", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--figure", help="save a grid of samples of each model there")
    args = parser.parse_args()
    print(f"machine: {machine()}\n", flush=True)
    grids = {}
    if not args.skip_mnist:
        n = args.n_samples
        X_train, _, features, test, test_features, test_accuracy = study_protocol(n)
        print(f"feature extractor: test accuracy {test_accuracy:.4f}", flush=True)
        floor = X_train[np.random.RandomState(2).choice(N_TRAIN, min(n, N_TRAIN), replace=False)]
        results = {}  # name -> one (fd, precision, recall, seconds) per seed

        def measure(name, seed, seconds, samples):
            f = features(np.clip(samples, 0, 1))
            fd = frechet_distance(f, test_features)
            precision, recall = precision_recall(test_features, f, k=3)
            results.setdefault(name, []).append((fd, precision, recall, seconds))
            grids.setdefault(name, samples[:36])  # the first seed's
            print(
                f"  {name}, seed {seed}: FD {fd:.2f}, precision {precision:.3f}, recall {recall:.3f}",
                flush=True,
            )

        measure("training images (the floor)", None, None, floor)
        for name, make in models(args.k, args.skip_cnn):
            for seed in args.seeds:
                start = time.perf_counter()
                if make is None:
                    samples = pca_samples(X_train, int(name.split("k=")[1]), n, seed)
                    seconds = time.perf_counter() - start
                else:
                    model = make(seed).fit(X_train)
                    seconds = time.perf_counter() - start
                    samples = model.sample(n, random_state=seed)
                measure(name, seed, seconds, samples)
        seeds = ", ".join(str(s) for s in args.seeds)
        print(
            f"\n{n} samples against {len(test)} test images; features: the classifier's 128-unit layer; "
            f"seeds {seeds}: medians, and the Fréchet distance of each seed\n"
        )
        print("| model | Fréchet distance | per seed | precision | recall | fit (s) |")
        print("|---|---|---|---|---|---|")
        medians = {}
        for name, runs in results.items():
            fd, precision, recall = (float(np.median([r[i] for r in runs])) for i in range(3))
            seconds = None if runs[0][3] is None else float(np.median([r[3] for r in runs]))
            medians[name] = (fd, precision)
            per_seed = " / ".join(f"{r[0]:.2f}" for r in runs) if len(runs) > 1 else ""
            print(
                f"| {name} | {fd:.2f} | {per_seed} | {precision:.3f} | {recall:.3f} | "
                f"{'' if seconds is None else f'{seconds:.1f}'} |"
            )
        floor_precision = medians["training images (the floor)"][1]
        print(
            "\n| k | RRAE MLP FD / PCA+GMM FD (<= 0.5) | RRAE MLP FD / vanilla FD (<= 0.9) | per seed | "
            "RRAE MLP FD / vanilla FD, 30 epochs | RRAE MLP precision / floor's (>= 0.8) |"
        )
        print("|---|---|---|---|---|---|")
        for k in args.k:
            rrae, vanilla = results[f"RRAE MLP, k={k}"], results[f"vanilla AE, latent {k}"]
            per_seed = " / ".join(f"{r[0] / v[0]:.3f}" for r, v in zip(rrae, vanilla, strict=True))
            fd = medians[f"RRAE MLP, k={k}"][0]
            print(
                f"| {k} | {fd / medians[f'PCA + GMM, k={k}'][0]:.3f} | "
                f"{fd / medians[f'vanilla AE, latent {k}'][0]:.3f} | {per_seed if len(rrae) > 1 else ''} | "
                f"{fd / medians[f'vanilla AE, latent {k}, 30 epochs'][0]:.3f} | "
                f"{medians[f'RRAE MLP, k={k}'][1] / floor_precision:.3f} |"
            )
    share, median, fit_seconds = blob_experiment()
    print(
        "\n2-D Gaussian blob, RRAE k=2 defaults, 1,000 samples: share within 10 % of a true blob "
        f"{share:.3f} (target >= 0.9), median relative error {median:.3f}, fit {fit_seconds:.1f} s"
    )
    if args.figure and grids:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(grids), figsize=(2.2 * len(grids), 2.6))
        for ax, (name, s) in zip(np.atleast_1d(axes), grids.items(), strict=True):
            tiles = np.clip(s, 0, 1).reshape(6, 6, 28, 28).transpose(0, 2, 1, 3).reshape(168, 168)
            ax.imshow(tiles, cmap="gray_r")
            ax.set_title(name, fontsize=7)
            ax.axis("off")
        fig.tight_layout()
        fig.savefig(args.figure, dpi=120)
        print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()

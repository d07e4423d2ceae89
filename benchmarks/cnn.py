"""Convolutional RRAE against the MLP RRAE and PCA on MNIST and Fashion-MNIST.

Usage: python benchmarks/cnn.py [--data mnist fashion_mnist] [--n-train N]
       [--k 10] [--threads 2] [--max-epochs auto] [--cnn-params JSON]
       [--figure docs/figures/cnn_reconstructions.png]

Package defaults except ``n_components=k``, ``random_state=0`` and, for the CNN,
``architecture="cnn", input_shape=(28, 28)`` (plus ``--cnn-params``, e.g.
``'{"encoder__channels": [32, 64]}'``, to try other networks). Training images (all 60,000 by
default) and the full 10,000-image test set, pixels scaled to [0, 1]. Prints one
row per data set: held-out MSE of ``inverse_transform(transform(X_test))`` for
PCA(k), the MLP RRAE and the CNN RRAE, the CNN's MSE as a fraction of PCA's,
fit times (wall clock, and CPU time of the process divided by the thread count,
which tells how much of the wall time went to waiting for a core on a shared
machine), time per epoch, and whether the issue's bars are met (CNN MSE <= 0.5 x
PCA's and < the MLP's; CNN fit <= 600 s wall).
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from _common import images, machine, mse
from sklearn.decomposition import PCA

from sklearn_rrae import RRAETransformer

FIT_LIMIT_S = 600


def timed_fit(model, X):
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(X)
    return model, time.perf_counter() - wall, time.process_time() - cpu


def held_out(model, X):
    return model.inverse_transform(model.transform(X))


def run(name, n_train, k, max_epochs, cnn_params):
    X_train, _, X_test, _ = images(name, n_train)
    pca = PCA(n_components=k, random_state=0).fit(X_train)
    common = dict(n_components=k, max_epochs=max_epochs, random_state=0)
    mlp, mlp_wall, mlp_cpu = timed_fit(RRAETransformer(**common), X_train)
    cnn, cnn_wall, cnn_cpu = timed_fit(
        RRAETransformer(architecture="cnn", input_shape=(28, 28), **cnn_params, **common), X_train
    )
    return {
        "name": name,
        "n_train": len(X_train),
        "pca": mse(X_test, held_out(pca, X_test)),
        "mlp": mse(X_test, held_out(mlp, X_test)),
        "cnn": mse(X_test, held_out(cnn, X_test)),
        "mlp_wall": mlp_wall,
        "mlp_cpu": mlp_cpu,
        "cnn_wall": cnn_wall,
        "cnn_cpu": cnn_cpu,
        "mlp_epochs": mlp.n_iter_,
        "cnn_epochs": cnn.n_iter_,
        "examples": (X_test[:8], *(held_out(model, X_test[:8]) for model in (pca, mlp, cnn))),
    }


def row(r, k, threads):
    ratio = r["cnn"] / r["pca"]
    cnn_cpu = r["cnn_cpu"] / threads
    met = ratio <= 0.5 and r["cnn"] < r["mlp"]
    return (
        f"| {r['name']} | {r['n_train']} | {k} | {r['pca']:.5f} | {r['mlp']:.5f} | {r['cnn']:.5f} "
        f"| {ratio:.3f} | {r['mlp_wall']:.0f} / {r['mlp_cpu'] / threads:.0f} "
        f"| {r['cnn_wall']:.0f} / {cnn_cpu:.0f} | {r['mlp_epochs']} / {r['cnn_epochs']} "
        f"| {r['mlp_wall'] / r['mlp_epochs']:.1f} / {r['mlp_cpu'] / threads / r['mlp_epochs']:.1f} "
        f"| {r['cnn_wall'] / r['cnn_epochs']:.1f} / {cnn_cpu / r['cnn_epochs']:.1f} "
        f"| {'yes' if met else 'NO'} | {'yes' if r['cnn_wall'] <= FIT_LIMIT_S else 'NO'} |"
    )


def save_figure(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["test image", "PCA", "MLP RRAE", "CNN RRAE"]
    fig, axes = plt.subplots(4 * len(results), 8, figsize=(8, 4.2 * len(results)))
    axes = np.atleast_2d(axes)
    for d, r in enumerate(results):
        for i, images_ in enumerate(r["examples"]):
            for j, image in enumerate(images_):
                ax = axes[4 * d + i, j]
                ax.imshow(np.clip(image.reshape(28, 28), 0, 1), cmap="gray", vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
                if j == 0:
                    ax.set_ylabel(f"{r['name']}\n{labels[i]}" if i == 0 else labels[i], fontsize=7)
    fig.suptitle(f"Held-out reconstructions, k = {results[0]['k']}", fontsize=9)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["mnist", "fashion_mnist"])
    parser.add_argument("--n-train", type=int, default=None, help="training images (default: all)")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the 2 cores of the target)")
    parser.add_argument("--max-epochs", default="auto", help="both RRAEs' max_epochs (default: auto)")
    parser.add_argument("--cnn-params", type=json.loads, default={}, help="extra CNN parameters (JSON)")
    parser.add_argument("--figure", default=None, help="save test reconstructions to this PNG")
    args = parser.parse_args()
    max_epochs = args.max_epochs if args.max_epochs == "auto" else int(args.max_epochs)
    torch.set_num_threads(args.threads)
    print(f"machine: {machine()}")
    print(f"load average at start: {os.getloadavg()}\n")
    print(
        "| data | n_train | k | PCA MSE | MLP RRAE MSE | CNN RRAE MSE | CNN / PCA | MLP fit (s): wall / cpu "
        "| CNN fit (s): wall / cpu | epochs MLP / CNN | MLP s/epoch: wall / cpu | CNN s/epoch: wall / cpu "
        "| MSE bars met | CNN fit <= 600 s (wall) |"
    )
    print("|---" * 14 + "|", flush=True)
    results = []
    for name in args.data:
        r = run(name, args.n_train, args.k, max_epochs, args.cnn_params)
        r["k"] = args.k
        results.append(r)
        print(row(r, args.k, args.threads), flush=True)
    print(f"\nload average at end: {os.getloadavg()}")
    if args.figure:
        save_figure(results, args.figure)
        print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()

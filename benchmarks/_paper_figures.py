"""Figures for benchmarks/paper.py (matplotlib, imported only when asked for)."""

import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _synthetic(results, folder):
    cases = list(results)
    models = list(results[cases[0]])
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(models)
    for i, model in enumerate(models):
        medians = [statistics.median(run[1] for run in results[case][model]) for case in cases]
        ax.bar(np.arange(len(cases)) + i * width, medians, width, label=model)
    ax.set_xticks(np.arange(len(cases)) + 0.4 - width / 2)
    ax.set_xticklabels([f"{name}\nk={k}" for name, k in cases], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("test relative error (%), interpolated codes")
    ax.legend(fontsize=8)
    ax.set_title("Synthetic problems: the paper's protocol (median over seeds)")
    fig.tight_layout()
    fig.savefig(folder / "paper_synthetic.png", dpi=120)
    plt.close(fig)


def _images(results, folder):
    datasets = sorted({key[0] for key in results})
    fig, axes = plt.subplots(1, len(datasets), figsize=(10, 4))
    for ax, dataset in zip(np.atleast_1d(axes), datasets, strict=True):
        ranks = sorted({key[1] for key in results if key[0] == dataset})
        for model in ("RRAE", "PCA", "vanilla AE, k-dim latent"):
            ax.plot(ranks, [results[dataset, k, model][0] for k in ranks], "o-", label=model)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ranks, [str(k) for k in ranks])
        ax.set_xlabel("k")
        ax.set_ylabel("held-out MSE")
        ax.set_title(dataset)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(folder / "paper_images.png", dpi=120)
    plt.close(fig)


def save_figures(results, folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if "synthetic" in results:
        _synthetic(results["synthetic"], folder)
    if "images" in results:
        _images(results["images"], folder)

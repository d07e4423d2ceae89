"""Reproduce the experiments of the RRAE paper, and compare with the usual baselines.

Usage: python benchmarks/paper.py [--seeds 5] [--parts synthetic images entropy] [--figures DIR]
       [--problems NAME ...] [--activation NAME] [--n-init N]

Three parts, each printing markdown tables (progress goes to stderr):

- synthetic: the five problems of sklearn_rrae.datasets. RRAE at the paper's
  rank against PCA, KernelPCA (rbf, fit_inverse_transform=True), a vanilla
  autoencoder with a k-dimensional latent and one with the long latent (same
  architecture and budget), under both protocols: reconstruction of the test
  signals, and decoding of the codes interpolated at the test parameters (the
  paper's). Relative error in % (100 ||X_hat - X|| / ||X||), median and worst
  seed; fit time.
- images: MNIST and Fashion-MNIST (first 20,000 training images, full test set,
  pixels in [0, 1]): held-out MSE at k in {2, 5, 10, 20} for RRAE, PCA and the
  vanilla autoencoder with a k-dimensional latent, and the test accuracy of
  Pipeline([encoder, StandardScaler, LogisticRegression]) on their codes.
- entropy: the paper's interpolation quality on MNIST. A classifier (an MLP)
  is trained on the 60,000 training images; for 2000 random pairs of training
  images, 5 evenly spaced codes strictly between theirs are decoded (clipped to
  [0, 1]) and classified; the mean entropy of the predicted class
  probabilities is reported for RRAE, PCA and the vanilla autoencoder at k = 5.
  Lower means more digit-like.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from _common import images, interpolation_error, machine, mse, reconstruction_error
from sklearn.decomposition import PCA, KernelPCA
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_rrae import RRAETransformer, datasets

# name, generator, ranks, settings of the three autoencoders for this problem.
# Two bumps: single starts mostly fold the parameter grid in code space (see
# docs/benchmarks.md and benchmarks/NOTES.md), so the autoencoders keep the most
# trustworthy of 10 starts.
SYNTHETIC = [
    ("shifted sine", lambda: datasets.make_shifted_sine(random_state=0), [1], {}),
    ("shifted Gaussian bump", datasets.make_shifted_gaussian, [1], {}),
    ("two Gaussian bumps", lambda: datasets.make_two_gaussians(random_state=0), [2], {"n_init": 10}),
    ("two sines", lambda: datasets.make_two_sines(random_state=0), [2, 12], {}),
    ("2-D Gaussian blob", lambda: datasets.make_gaussian_blob(random_state=0), [2], {}),
]
# The paper's test errors (interpolation protocol, %), where it reports one.
PAPER = {("shifted sine", 1): 1.90, ("two Gaussian bumps", 2): 8.75, ("two sines", 12): 12.83}
IMAGE_RANKS = [2, 5, 10, 20]
N_TRAIN = 20000  # training images for the autoencoders and PCA


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def autoencoders(k, seed, **params):
    """The three autoencoders compared, same architecture and training budget."""
    return {
        "RRAE": RRAETransformer(n_components=k, random_state=seed, **params),
        "vanilla AE, k-dim latent": RRAETransformer(
            n_components=None, random_state=seed, **{**params, "latent_dim": k}
        ),
        "vanilla AE, long latent": RRAETransformer(n_components=None, random_state=seed, **params),
    }


def linear_baselines(k):
    return {
        "PCA": PCA(n_components=k),
        "KernelPCA (rbf)": KernelPCA(n_components=k, kernel="rbf", fit_inverse_transform=True),
    }


def evaluate(model, X_train, X_test, p_train, p_test):
    start = time.perf_counter()
    model.fit(X_train)
    seconds = time.perf_counter() - start
    reconstruction = reconstruction_error(model, X_test)
    interpolation = interpolation_error(model, X_train, X_test, p_train, p_test)
    return 100 * reconstruction, 100 * interpolation, seconds


def synthetic_part(seeds, problems=None, **params):
    results = {}
    for name, generate, ranks, settings in SYNTHETIC:
        if problems is not None and name not in problems:
            continue
        X_train, X_test, p_train, p_test = generate()
        for k in ranks:
            rows = {}
            for model_name, model in linear_baselines(k).items():
                rows[model_name] = [evaluate(model, X_train, X_test, p_train, p_test)]
            for seed in seeds:
                for model_name, model in autoencoders(k, seed, **{**settings, **params}).items():
                    rows.setdefault(model_name, []).append(evaluate(model, X_train, X_test, p_train, p_test))
                    r, i, s = rows[model_name][-1]
                    log(f"{name} k={k} seed={seed} {model_name}: recon {r:.2f}% interp {i:.2f}% ({s:.1f} s)")
            results[name, k] = rows
    print("\n### Synthetic problems: relative test error in %, median (worst) over seeds\n")
    print(
        "| problem | k | model | reconstruction | interpolation (paper's protocol) "
        "| fit (s), median (max) | paper |"
    )
    print("|---" * 7 + "|")
    for (name, k), rows in results.items():
        for model_name, runs in rows.items():
            rec, interp, sec = (list(column) for column in zip(*runs, strict=True))
            paper = f"{PAPER[name, k]:.2f}" if model_name == "RRAE" and (name, k) in PAPER else ""
            print(
                f"| {name} | {k} | {model_name} | {statistics.median(rec):.2f} ({max(rec):.2f}) | "
                f"{statistics.median(interp):.2f} ({max(interp):.2f}) | "
                f"{statistics.median(sec):.1f} ({max(sec):.1f}) | {paper} |"
            )
    return results


def image_models(k, seed):
    return {
        "RRAE": RRAETransformer(n_components=k, random_state=seed),
        "PCA": PCA(n_components=k, random_state=seed),
        "vanilla AE, k-dim latent": RRAETransformer(n_components=None, latent_dim=k, random_state=seed),
    }


def images_part(seed):
    results = {}
    for dataset in ("mnist", "fashion_mnist"):
        X, y, X_test, y_test = images(dataset, N_TRAIN)
        for k in IMAGE_RANKS:
            for model_name, model in image_models(k, seed).items():
                start = time.perf_counter()
                model.fit(X)
                seconds = time.perf_counter() - start
                error = mse(X_test, model.inverse_transform(model.transform(X_test)))
                classifier = make_pipeline(
                    FrozenEstimator(model), StandardScaler(), LogisticRegression(max_iter=2000)
                )
                accuracy = classifier.fit(X, y).score(X_test, y_test)
                results[dataset, k, model_name] = (error, accuracy, seconds)
                log(f"{dataset} k={k} {model_name}: MSE {error:.5f} acc. {accuracy:.3f} ({seconds:.1f} s)")
    print("\n### MNIST and Fashion-MNIST: held-out MSE and accuracy of a logistic regression on the codes\n")
    print(
        "| data | k | RRAE MSE | PCA MSE | vanilla AE MSE | RRAE acc. | PCA acc. "
        "| vanilla AE acc. | RRAE fit (s) |"
    )
    print("|---" * 9 + "|")
    for dataset in ("mnist", "fashion_mnist"):
        for k in IMAGE_RANKS:
            r, p, v = (results[dataset, k, m] for m in ("RRAE", "PCA", "vanilla AE, k-dim latent"))
            print(
                f"| {dataset} | {k} | {r[0]:.5f} | {p[0]:.5f} | {v[0]:.5f} | "
                f"{r[1]:.3f} | {p[1]:.3f} | {v[1]:.3f} | {r[2]:.1f} |"
            )
    return results


def entropy_part(seed, k=5, n_pairs=2000, n_points=5):
    X_all, y_all, X_test, y_test = images("mnist")
    X = X_all[:N_TRAIN]
    log("training the MNIST classifier on 60,000 images")
    classifier = MLPClassifier(hidden_layer_sizes=(256,), max_iter=30, random_state=seed).fit(X_all, y_all)
    print(f"\n### MNIST interpolation entropy (k = {k}, {n_pairs} pairs, {n_points} points each)\n")
    print(f"Classifier: MLP (256 hidden units), test accuracy {classifier.score(X_test, y_test):.4f}.\n")
    print("| model | mean entropy of the predicted class probabilities | paper |")
    print("|---|---|---|")
    rng = np.random.RandomState(seed)
    pairs = rng.randint(len(X), size=(n_pairs, 2))
    weights = np.linspace(0, 1, n_points + 2)[1:-1]
    results = {}
    for model_name, model in image_models(k, seed).items():
        codes = model.fit(X).transform(X)
        a, b = codes[pairs[:, 0]], codes[pairs[:, 1]]
        mixed = np.concatenate([(1 - w) * a + w * b for w in weights])
        decoded = np.clip(model.inverse_transform(mixed), 0.0, 1.0)
        proba = np.clip(classifier.predict_proba(decoded), 1e-12, 1.0)
        results[model_name] = float(np.mean(-(proba * np.log(proba)).sum(axis=1)))
        paper = "0.50" if model_name == "RRAE" else ""
        print(f"| {model_name} | {results[model_name]:.3f} | {paper} |", flush=True)
        log(f"entropy {model_name}: {results[model_name]:.3f}")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--parts", nargs="+", default=["synthetic", "images", "entropy"])
    parser.add_argument("--problems", nargs="+", help="synthetic problems to run (default: all)")
    parser.add_argument("--activation", help="autoencoders' activation (default: the package's)")
    parser.add_argument(
        "--n-init", type=int, help="n_init of the autoencoders on every problem (default: see SYNTHETIC)"
    )
    parser.add_argument("--figures", type=Path, default=None, help="folder to save the figures in")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    seeds = range(args.seeds)
    results = {}
    if "synthetic" in args.parts:
        params = {} if args.activation is None else {"activation": args.activation}
        if args.n_init is not None:
            params["n_init"] = args.n_init
        results["synthetic"] = synthetic_part(seeds, args.problems, **params)
    if "images" in args.parts:
        results["images"] = images_part(seed=0)
    if "entropy" in args.parts:
        results["entropy"] = entropy_part(seed=0)
    if args.figures is not None:
        from _paper_figures import save_figures

        save_figures(results, args.figures)


if __name__ == "__main__":
    main()

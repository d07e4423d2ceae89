"""Data loading and machine description shared by the benchmark scripts."""

import os
import platform
from pathlib import Path

import numpy as np
import sklearn
import skorch
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_rrae.datasets import make_shifted_sine
from sklearn_rrae.interpolation import interpolate_samples

DATA = Path(os.environ.get("SKLEARN_RRAE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def digits():
    """``load_digits``, 70/30 split (random_state=0)."""
    X, _ = load_digits(return_X_y=True)
    return train_test_split(X, test_size=0.3, random_state=0)


def images(name="mnist", n_train=None):
    """First ``n_train`` (default: all) training images and the full test set of
    ``DATA/<name>.npz``, flattened and scaled to [0, 1], with their labels:
    ``X_train, y_train, X_test, y_test``."""
    d = np.load(DATA / f"{name}.npz")

    def flat(pixels):
        return pixels.reshape(len(pixels), -1).astype(np.float64) / 255.0

    return flat(d["x_train"][:n_train]), d["y_train"][:n_train], flat(d["x_test"]), d["y_test"]


def mnist(n_train=20000, name="mnist"):
    """First ``n_train`` training images and the full test set, scaled to [0, 1]."""
    X_train, _, X_test, _ = images(name, n_train)
    return X_train, X_test


def shifted_sine():
    X_train, X_test, _, _ = make_shifted_sine(random_state=0)
    return X_train, X_test


def mse(X, X_hat):
    return float(np.mean((X - X_hat) ** 2))


def relative_error(X, X_hat):
    return float(np.linalg.norm(X - X_hat) / np.linalg.norm(X))


def reconstruction_error(model, X):
    """Relative error of ``inverse_transform(transform(X))``."""
    return relative_error(X, model.inverse_transform(model.transform(X)))


def interpolation_error(model, X_train, X_test, p_train, p_test):
    """Relative error of the training codes interpolated at ``p_test`` and decoded (the paper's protocol)."""
    return relative_error(X_test, interpolate_samples(model, p_train, p_test, X_train=X_train))


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"skorch {skorch.__version__}, scikit-learn {sklearn.__version__}, Python {platform.python_version()}"
    )

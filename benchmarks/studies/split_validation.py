"""Choose the epoch on one half of the validation rows, test it against the PCA start on the other (issue 17)?

Usage: python benchmarks/studies/split_validation.py [--seeds 0,1,2] [--only NAME ...]

The defaults choose the best validation epoch and test it against the PCA start
on the same validation rows (``ValidationEarlyStopping``); the chosen epoch is the
best of hundreds on those rows, so the test is optimistic (diabetes at k = 5:
``start_test_rules.py``). The variant here, patched into the callback for this
process only: every epoch also scores the validation rows one by one; the weights
kept are those of the best epoch on the even-numbered validation rows (the start
included), and they replace the start only if they beat it on the odd-numbered
rows by the defaults' margin (:func:`sklearn_rrae._callbacks.beats`). When to stop
is unchanged (skorch's rule on the whole validation loss). Prints the held-out MSE
/ PCA's, median (worst) over the seeds, for the defaults and the variant, on the
rows of ``pca_panel.py`` where the start test decides something.
"""

import argparse
import statistics
import sys
import warnings
from copy import deepcopy
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pca_panel  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402

from sklearn_rrae import RRAETransformer  # noqa: E402
from sklearn_rrae._callbacks import ValidationEarlyStopping, beats, row_errors  # noqa: E402

DATA = [
    ("diabetes", pca_panel.diabetes, (2, 5)),
    ("breast cancer", pca_panel.breast_cancer, (2, 5)),
    ("wine", pca_panel.wine, (2, 5)),
    ("iris", pca_panel.iris, (1, 2)),
    ("Olivetti", pca_panel.olivetti, (5, 20)),
    ("digits", pca_panel.digits, (2, 5)),
    ("MNIST-1000", pca_panel.mnist_1000, (5, 10)),
]

_defaults = (
    ValidationEarlyStopping.on_train_begin,
    ValidationEarlyStopping.on_epoch_end,
    ValidationEarlyStopping.on_train_end,
)


def _split_on_train_begin(self, net, X=None, y=None, **kwargs):
    _defaults[0](self, net, X=X, y=y, **kwargs)
    self.halves_ = None
    if getattr(self, "start_loss_", None) is not None and len(self.start_errors_) >= 4:
        _, valid = net.get_split_datasets(X, y)
        choose = np.arange(len(self.start_errors_)) % 2 == 0
        self.halves_ = (valid, choose)
        self.choice_ = (float(self.start_errors_[choose].mean()), self.start_weights_, 0)


def _split_on_epoch_end(self, net, **kwargs):
    if self.halves_ is not None and "valid_loss" in net.history[-1]:
        valid, choose = self.halves_
        score = float(row_errors(net, valid)[choose].mean())
        if score < self.choice_[0]:
            self.choice_ = (score, deepcopy(net.module_.state_dict()), len(net.history))
    _defaults[1](self, net, **kwargs)


def _split_on_train_end(self, net, X=None, y=None, **kwargs):
    if self.halves_ is None:
        return _defaults[2](self, net, X=X, y=y, **kwargs)
    if not (self.misses_ >= self.patience or len(net.history) >= net.max_epochs):
        return None
    valid, choose = self.halves_
    _, weights, epoch = self.choice_
    net.module_.load_state_dict(weights)
    if epoch != 0 and not beats(row_errors(net, valid)[~choose], self.start_errors_[~choose]):
        net.module_.load_state_dict(self.start_weights_)
    self.halves_ = self.choice_ = self.start_weights_ = self.start_errors_ = None
    return None


def use_split(on):
    methods = (_split_on_train_begin, _split_on_epoch_end, _split_on_train_end) if on else _defaults
    (
        ValidationEarlyStopping.on_train_begin,
        ValidationEarlyStopping.on_epoch_end,
        ValidationEarlyStopping.on_train_end,
    ) = methods


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    warnings.simplefilter("ignore")
    print(
        "| data | k | defaults: median (worst) | split halves: median (worst) | per seed, defaults -> split |"
    )
    print("|---|---|---|---|---|")
    for name, load, ranks in DATA:
        if args.only and not any(name.startswith(o) for o in args.only):
            continue
        X_train, X_test = load()
        for k in ranks:
            pca_mse = pca_panel.reconstruction_mse(PCA(k).fit(X_train), X_test)
            ratios = {}
            for variant in (False, True):
                use_split(variant)
                ratios[variant] = [
                    pca_panel.reconstruction_mse(
                        RRAETransformer(n_components=k, random_state=s).fit(X_train), X_test
                    )
                    / pca_mse
                    for s in seeds
                ]
            use_split(False)
            cells = [f"{statistics.median(r):.3f} ({max(r):.3f})" for r in ratios.values()]
            pairs = ", ".join(f"{a:.3f} -> {b:.3f}" for a, b in zip(ratios[False], ratios[True], strict=True))
            print(f"| {name} | {k} | {cells[0]} | {cells[1]} | {pairs} |", flush=True)


if __name__ == "__main__":
    main()

"""``n_init``: several training starts, keep the one whose codes are most trustworthy.

An autoencoder with a short code can fold the data: distant samples get nearby
codes, the training error stays small but codes between them decode badly.
Whether a start folds is settled early in training (the two-bumps study in
benchmarks/NOTES.md), so every start gets a fraction of the epochs and is judged
on the trustworthiness of its codes; the best one trains for the rest.
"""

import numpy as np
import torch
from sklearn.manifold import trustworthiness

from ._net import run

# Each start trains for this fraction of the epochs, and is judged on the
# trustworthiness (this many neighbours) of the codes of at most this many rows.
_EPOCH_FRACTION = 0.2
_NEIGHBORS = 10
_SCORE_ROWS = 1000


def code_trustworthiness(module, data, seed):
    """How well ``module``'s codes keep the neighbourhoods of (a sample of) ``data``.

    :func:`sklearn.manifold.trustworthiness` of the codes against the rows in
    model units, with the codes taken on the rank-k basis of these rows' latents
    (the global basis does not exist yet). At most ``_SCORE_ROWS`` rows, drawn
    from ``seed``, keep its quadratic cost bounded.
    """
    n_rows = len(data)
    rows = np.arange(n_rows)
    if n_rows > _SCORE_ROWS:
        rows = np.sort(np.random.RandomState(seed).choice(n_rows, _SCORE_ROWS, replace=False))
    X = torch.cat(list(data.subset(rows).chunks()))
    module.eval()
    with torch.no_grad():
        Z = module.encode(X).double()
    module.train()
    k = module.n_components
    if k is not None and k < min(Z.shape):
        Z = Z @ torch.linalg.svd(Z, full_matrices=False).Vh[:k].mT
    n_neighbors = min(_NEIGHBORS, (len(rows) - 1) // 2)
    if n_neighbors < 1 or not torch.isfinite(Z).all():
        return -np.inf
    return trustworthiness(X.cpu().double().numpy(), Z.cpu().numpy(), n_neighbors=n_neighbors)


def train_best_start(make_net, train, seed, n_init):
    """Train ``n_init`` starts for a fraction of the epochs, then the best one to the end.

    ``make_net(seed)`` builds a fresh net; the first start uses ``seed`` itself,
    so ``n_init=1`` is the plain fit. The kept net's first history row records
    every start's score as ``init_scores``.
    """
    net = make_net(seed)
    n_epochs = net.max_epochs
    trial_epochs = max(1, round(_EPOCH_FRACTION * n_epochs))
    seeds = [seed, *np.random.RandomState(seed).randint(np.iinfo(np.int32).max, size=n_init - 1)]
    scores, best = [], None
    for i, start_seed in enumerate(seeds):
        if i:
            net = make_net(int(start_seed))
        run(net, train, epochs=trial_epochs)
        scores.append(code_trustworthiness(net.module_, train, seed))
        if best is None or scores[-1] > max(scores[:-1]):
            best, kept = net, i
        if net.verbose:
            print(f"start {i + 1} of {n_init}: trustworthiness of its codes {scores[-1]:.4f}")
    if best.verbose:
        print(f"kept start {kept + 1}; it trains for the remaining {n_epochs - trial_epochs} epochs")
    best.history[0]["init_scores"] = np.asarray(scores)
    if n_epochs > trial_epochs:
        run(best, train, epochs=n_epochs - trial_epochs)
    return best

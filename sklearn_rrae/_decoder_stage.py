"""The second stage of a fit: the decoder trained again on the codes of the global basis.

Training truncates each batch latent on the batch's own singular vectors;
``inverse_transform`` and ``sample()`` decode codes on the one global basis
built after training. This stage trains the decoder alone on that path,
``decoder(codes @ components_)`` against the training rows, with the encoder
and the basis fixed (so ``transform`` and the density's codes do not change).
It is the authors' second stage. Measured on MNIST-20k at k = 10 (seeds 0-2, 10
epochs; ``benchmarks/NOTES.md``): held-out MSE 2.8 % lower, Fréchet distance of
``sample()`` 0.88-0.93 x, about what 10 more training epochs give, for less time.

It runs on skorch like the first stage, with the same callbacks: the
divergence guard, the losses in data units and, when the fit has validation
rows, the average of the weights and the early stopping with the decoder as it
was before the stage as a candidate (kept unless an epoch beats it beyond noise).
That test is what lets the validated stage train with dropout in the decoder
(``decoder_dropout="auto"``, on data with more features than training rows): on
Olivetti faces at k = 5 it took the held-out MSE from 0.81 to 0.78 x PCA's, and
where dropout does not help (the paper's noise-free signals) the decoder the stage
started from comes back.
"""

import contextlib

import torch
from skorch.callbacks import ProgressBar
from torch import nn

from ._callbacks import DataUnitsLoss, DivergenceGuard, ValidationEarlyStopping
from ._net import training_settings
from ._networks import dropout_rate
from ._training_net import TrainingNet
from ._truncation import nested_ranks
from ._weight_average import WeightAverage


class DecoderOnCodes(nn.Module):
    """Codes on the global basis to reconstructions (model units): ``inverse_transform``'s path.

    Shares the decoder (its parameters are the ones trained) of ``rrae``, an
    ``RRAEModule`` with a stored basis. With ``nested``, each training row
    keeps only the first ``r`` of its codes, ``r`` as in ``nested=True``
    training (:func:`~sklearn_rrae._truncation.nested_ranks`): the rank-``r``
    model decodes its codes the same way.
    """

    def __init__(self, rrae, nested=False):
        super().__init__()
        self.decoder = rrae.decoder
        self.register_buffer("basis", rrae.basis.detach().clone())
        self.register_buffer("output_gain", rrae.output_gain.detach().clone())
        self.nested = nested

    def forward(self, codes):
        if self.training and self.nested:
            k = codes.shape[1]
            ranks = nested_ranks(codes.shape[0], k, codes.device)
            codes = codes * (torch.arange(k, device=codes.device) < ranks[:, None])
        return self.decoder(codes @ self.basis) * self.output_gain


class CodedRows(torch.utils.data.Dataset):
    """A row holder's rows paired with their codes: ``(codes, rows)`` batches.

    Parameters
    ----------
    codes : torch.Tensor of shape (n_samples, n_codes)
        The codes of the rows of ``rows``, in order, on the training device.
    rows : DeviceRows or StreamedRows
        The targets (model units).
    """

    def __init__(self, codes, rows):
        self.codes = codes
        self.rows = rows

    @property
    def index_device(self):
        return self.rows.index_device

    def __len__(self):
        return len(self.rows)

    def pair(self, index):
        codes_index = index.to(self.codes.device) if isinstance(index, torch.Tensor) else index
        return self.codes[codes_index], self.rows.take(index)

    def __getitem__(self, i):
        return self.codes[i], self.rows.take(torch.tensor([i]))[0]


def encoded_codes(module, rows):
    """The codes of ``rows`` on ``module``'s stored basis, one float32 tensor."""
    module.eval()
    with torch.no_grad():
        return torch.cat([module.to_codes(chunk) for chunk in rows.chunks()])


def train_decoder(module, train, valid, *, epochs, dropout, nested, seed, params, plan, to_data_units):
    """Train ``module.decoder`` on the codes of ``train`` (``valid``: validation rows or None).

    ``dropout``: the rate of the built-in MLP decoder's dropout layers during the
    stage (they go back to training's rate after it); None: another decoder,
    whose layers are left as they are. ``params`` are the
    estimator's (``lr``, ``optimizer``, ``tol``, ``verbose``), ``plan`` its
    :class:`~sklearn_rrae._plan.TrainingPlan` (batch size, patience, device,
    optimizer arguments). Returns the stage's history rows; the decoder's
    weights are those of the epoch kept.
    """
    train = CodedRows(encoded_codes(module, train), train)
    if valid is not None:
        valid = CodedRows(encoded_codes(module, valid), valid)
    callbacks = [("divergence_guard", DivergenceGuard()), ("data_units_loss", DataUnitsLoss(to_data_units))]
    if params["verbose"]:
        callbacks.append(("progress_bar", ProgressBar()))
    if valid is not None:
        callbacks.append(("weight_average", WeightAverage()))
        callbacks.append(("early_stopping", ValidationEarlyStopping(plan.patience, params["tol"], True)))
    torch.manual_seed(seed)
    net = TrainingNet(
        module=DecoderOnCodes(module, nested),
        max_epochs=epochs,
        **training_settings(plan, params, seed, callbacks, valid),
    ).initialize()
    # The net's parameters are the decoder's only; the PCA start's map is a buffer.
    with contextlib.nullcontext() if dropout is None else dropout_rate(module.decoder, dropout):
        net.partial_fit(train)
    module.eval()
    return list(net.history)

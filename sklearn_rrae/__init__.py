"""Rank Reduction Autoencoders for scikit-learn."""

from ._adaptive import AdaptiveRRAETransformer, RankSchedule
from ._base import LinearStartKeptWarning
from ._cnn import ConvDecoder, ConvEncoder
from ._onnx import to_onnx
from ._persistence import load, save
from ._rrae import RRAETransformer

__all__ = [
    "AdaptiveRRAETransformer",
    "ConvDecoder",
    "ConvEncoder",
    "LinearStartKeptWarning",
    "RRAETransformer",
    "RankSchedule",
    "load",
    "save",
    "to_onnx",
]
__version__ = "0.1.0"

"""Rank Reduction Autoencoders for scikit-learn."""

from ._rrae import RRAETransformer

__all__ = ["RRAETransformer"]
__version__ = "0.1.0"

"""Rank Reduction Autoencoders for scikit-learn."""

from ._adaptive import AdaptiveRRAETransformer, RankSchedule
from ._rrae import RRAETransformer

__all__ = ["AdaptiveRRAETransformer", "RRAETransformer", "RankSchedule"]
__version__ = "0.1.0"

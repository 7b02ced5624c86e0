"""Point-prompt strategies: Grad-CAM heat map (+ image) -> SAM point prompts.

``from prompting import get_strategy, list_strategies`` gives every built-in strategy
(importing the package registers them); ``register_strategy`` adds new ones. See
:mod:`prompting.registry` for the contract and :mod:`prompting.points` for the conventions.
"""

from prompting import baselines, oracles, published, regions  # noqa: F401  (registers the built-ins)
from prompting.points import PointsError, make_points, validate_points
from prompting.registry import (
    Strategy,
    StrategyError,
    get_strategy,
    list_strategies,
    register_strategy,
    unregister_strategy,
)

__all__ = [
    "PointsError",
    "Strategy",
    "StrategyError",
    "get_strategy",
    "list_strategies",
    "make_points",
    "register_strategy",
    "unregister_strategy",
    "validate_points",
]

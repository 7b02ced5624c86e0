"""Point-prompt strategies: Grad-CAM heat map (+ image) -> SAM point prompts.

Importing the package imports every module in it, so a strategy is one file: drop a module
with a ``@register_strategy`` function into ``prompting/`` (or into a ``prompting/`` folder
of your own anywhere on ``sys.path``, see :func:`pkgutil.extend_path`) and
``get_strategy``, ``list_strategies`` and ``scripts/compare_strategies.py`` know it. See
:mod:`prompting.registry` for the contract and :mod:`prompting.points` for the conventions.
"""

import importlib
import pkgutil

from prompting.points import PointsError, make_points, validate_points
from prompting.registry import (
    Strategy,
    StrategyError,
    get_strategy,
    list_strategies,
    register_strategy,
)

__path__ = pkgutil.extend_path(__path__, __name__)
for _module in pkgutil.iter_modules(__path__, f"{__name__}."):
    importlib.import_module(_module.name)

__all__ = [
    "PointsError",
    "Strategy",
    "StrategyError",
    "get_strategy",
    "list_strategies",
    "make_points",
    "register_strategy",
    "validate_points",
]

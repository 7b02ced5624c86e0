"""Point-prompt strategies: Grad-CAM heat map (+ image) -> SAM point prompts.

Importing the package imports every module in it (also of a ``prompting/`` folder elsewhere
on ``sys.path``, :func:`pkgutil.extend_path`), so a strategy is one file with a
``@register_strategy`` function. Contract: :mod:`prompting.registry`; conventions:
:mod:`prompting.points`.
"""

import importlib
import pkgutil

from prompting.points import PointsError, make_points, validate_points
from prompting.registry import (
    FAMILIES,
    StrategyError,
    get_strategy,
    list_strategies,
    register_strategy,
)

__path__ = pkgutil.extend_path(__path__, __name__)
for _module in pkgutil.iter_modules(__path__, f"{__name__}."):
    importlib.import_module(_module.name)

__all__ = [
    "FAMILIES",
    "PointsError",
    "StrategyError",
    "get_strategy",
    "list_strategies",
    "make_points",
    "register_strategy",
    "validate_points",
]

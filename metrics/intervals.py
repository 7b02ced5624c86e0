"""How far a rate measured on a sample may be from the rate of the distribution it came from:
Wilson's score interval for a proportion.

A hit rate over 100 images (the lowest-contrast fifth of a 500-image test split) of 91 % has a
95 % interval of about 84-95 %, so a goal of 93 % is neither met nor missed beyond chance
there; over 2000 images the same rate's interval is 90-92 %.
"""

from __future__ import annotations

import math


def wilson_interval(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval (lower, upper), both in [0, 1], for ``successes`` out of ``n``
    trials at ``z`` standard errors (1.96: 95 %).

    ``successes`` may be fractional: the sum of per-image hit rates of a strategy with several
    points per image, each image counted as one trial (its points are not independent).

    Raises:
        ValueError: ``n`` < 1, ``successes`` outside [0, n], or ``z`` <= 0.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0.0 <= successes <= n:
        raise ValueError(f"successes must lie in [0, n={n}], got {successes}")
    if z <= 0:
        raise ValueError(f"z must be positive, got {z}")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)

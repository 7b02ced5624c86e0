"""Whether a classifier has learned anything: its accuracy against chance (one in the number
of classes), judged by the accuracy's 95 % interval so that a few hundred images suffice."""

from __future__ import annotations

from metrics import wilson_interval
from shapes import CLASSES


def chance_warning(
    accuracy: float, n_images: int, what: str, n_classes: int = len(CLASSES)
) -> str | None:
    """A warning, or None when ``accuracy`` (in [0, 1], over ``n_images`` images, named by
    ``what``, e.g. ``"the 500 test images"``) lies above chance: when the lower end of its 95 %
    Wilson interval (:func:`metrics.wilson_interval`) is at or below ``1 / n_classes``.

    Raises:
        ValueError: ``n_images`` < 1, ``accuracy`` outside [0, 1] or ``n_classes`` < 2.
    """
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy must lie in [0, 1], got {accuracy}")
    lo, hi = wilson_interval(accuracy * n_images, n_images)
    chance = 1.0 / n_classes
    if lo > chance:
        return None
    return (
        f"the classifier's accuracy on {what}, {100 * accuracy:.1f} % (95 % interval "
        f"{100 * lo:.0f}-{100 * hi:.0f} %), is not above chance ({100 * chance:.0f} % for "
        f"{n_classes} classes): it has not learned the shapes, so its heat maps cannot be "
        "expected to find them; train it longer or check the data"
    )

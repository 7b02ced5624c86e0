"""classifier.chance_warning: a classifier at chance level is named, one above it is not."""

from __future__ import annotations

import pytest

from classifier.chance import chance_warning


def test_chance_level_accuracy_is_warned_about() -> None:
    # the hard preset's classifier: 22.4 % of 500 test images, 5 classes (chance 20 %)
    warning = chance_warning(0.224, 500, "the 500 test images")
    assert warning is not None
    assert "22.4 %" in warning and "20 % for 5 classes" in warning and "500 test images" in warning


def test_accuracy_clearly_above_chance_is_not() -> None:
    assert chance_warning(0.30, 500, "x") is None  # interval 26-34 %
    assert chance_warning(0.968, 500, "x") is None


def test_few_images_need_a_larger_margin() -> None:
    # 30 % of 20 images: the interval (15-52 %) still holds chance
    assert chance_warning(0.30, 20, "x") is not None
    assert chance_warning(0.5, 2, "x", n_classes=2) is not None


@pytest.mark.parametrize(
    ("accuracy", "n", "classes", "word"),
    [(1.2, 10, 5, "accuracy"), (0.5, 0, 5, "n must"), (0.5, 10, 1, "n_classes")],
)
def test_bad_input_is_refused(accuracy: float, n: int, classes: int, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        chance_warning(accuracy, n, "x", n_classes=classes)

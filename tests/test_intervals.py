"""metrics.wilson_interval against scipy's Wilson interval and its edge cases."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest, norm

from metrics import wilson_interval


@pytest.mark.parametrize(("k", "n"), [(91, 100), (0, 10), (10, 10), (1820, 2000), (3, 5)])
def test_matches_scipy(k: int, n: int) -> None:
    expected = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = wilson_interval(k, n, z=float(norm.ppf(0.975)))
    assert lo == pytest.approx(expected.low, abs=1e-12)
    assert hi == pytest.approx(expected.high, abs=1e-12)


def test_contains_the_rate_and_narrows_with_more_trials() -> None:
    small, large = wilson_interval(91, 100), wilson_interval(910, 1000)
    assert small[0] < 0.91 < small[1] and large[0] < 0.91 < large[1]
    assert large[1] - large[0] < small[1] - small[0]


def test_fractional_successes_lie_between_their_neighbours() -> None:
    # a strategy with two points per image: an image with one of two points inside adds 0.5
    lo, hi = wilson_interval(90.5, 100)
    assert wilson_interval(90, 100)[0] < lo < wilson_interval(91, 100)[0]
    assert wilson_interval(90, 100)[1] < hi < wilson_interval(91, 100)[1]


@pytest.mark.parametrize(
    ("k", "n", "z", "word"), [(1, 0, 1.96, "n must"), (11, 10, 1.96, "successes"), (1, 10, 0, "z")]
)
def test_refuses_bad_input(k: float, n: int, z: float, word: str) -> None:
    with pytest.raises(ValueError, match=word):
        wilson_interval(k, n, z)

"""Retry delays with jitter, drawn as Prefect draws them (``retry_jitter_factor``).

A delay of ``d`` with factor ``f`` becomes a draw from an exponential distribution of mean
``d``, restricted to an interval whose upper end is ``d * (1 + f)`` and whose lower end is
chosen so that the draws still average about ``d``: retries of runs that failed together
spread out, without waiting longer on average, and never more than ``f`` times longer.
"""

from __future__ import annotations

import math
import random

__all__ = ["jittered"]


def jittered(delay: float, factor: float) -> float:
    """``delay`` seconds with jitter ``factor`` (> 0) applied."""
    if factor <= 0:
        raise ValueError(f"retry_jitter_factor must be positive, got {factor}")
    upper = delay * (1 + factor)
    lower = max(0.0, delay * _lower_multiple(1 + factor))
    low_p, high_p = _cdf(lower, delay), _cdf(upper, delay)
    drawn = random.uniform(low_p, high_p)
    return -math.log(max(1 - drawn, 1e-10)) * delay


def _cdf(x: float, mean: float) -> float:
    return 1 - math.exp(-x / mean)


def _lower_multiple(upper_multiple: float) -> float:
    """The lower end (as a multiple of the mean) that keeps the restricted draw's mean."""
    if upper_multiple >= 50:
        return 0.0
    power = 2**upper_multiple
    return math.log(max(power / (power - 1), 1e-10), 2)

"""Durations written the way IPython's ``%timeit`` writes them.

``format_time(0.958)`` → ``'958 ms'``; three significant digits in the largest
unit of s, ms, μs, ns that keeps the number at 1 or more (the unit steps every
factor of 1000, as IPython's does: ``0.9996`` gives ``'1e+03 ms'`` there and here).
From a minute up the value is written in whole units: ``'1min 5s'``, ``'2h 1min'``.
The micro sign is IPython's, ``μ`` (U+03BC).
"""

from __future__ import annotations

import math

__all__ = ["format_time", "mean_pm_std"]

_UNITS = ("s", "ms", "\u03bcs", "ns")
_LONG_UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


def _format_long(seconds: float) -> str:
    parts: list[str] = []
    rest = seconds
    for suffix, size in _LONG_UNITS:
        count = int(rest / size)
        if count > 0:
            rest %= size
            parts.append(f"{count}{suffix}")
        if rest < 1:
            break
    return " ".join(parts)


def format_time(seconds: float, precision: int = 3) -> str:
    """``seconds`` in the unit ``%timeit`` would choose, with ``precision`` significant digits."""
    if seconds >= 60.0:
        return _format_long(seconds)
    if seconds > 0.0:
        # Each unit covers three decades: 1 s .. 59 s, 1 ms .. 999 ms, and so on down.
        decade = math.floor(math.log10(seconds))
        unit = min(-(decade // 3), len(_UNITS) - 1)
    else:
        unit = len(_UNITS) - 1
    return f"{seconds * 1000.0**unit:.{precision}g} {_UNITS[unit]}"


def mean_pm_std(mean: float, std: float, precision: int = 3) -> str:
    """``'958 ms ± 402 ms'``."""
    return f"{format_time(mean, precision)} \u00b1 {format_time(std, precision)}"

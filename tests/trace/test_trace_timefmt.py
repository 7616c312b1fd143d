"""Durations in IPython's %timeit units: three significant digits, s / ms / μs / ns."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainviz.trace.timefmt import format_time, mean_pm_std


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.958, "958 ms"),
        (0.402, "402 ms"),
        (1.22, "1.22 s"),
        (0.508, "508 ms"),
        (1.15, "1.15 s"),
        (0.119, "119 ms"),
        (1.0, "1 s"),
        (59.9, "59.9 s"),
        (0.0123, "12.3 ms"),
        (0.001, "1 ms"),
        (0.000999, "999 \u03bcs"),
        (0.9996, "1e+03 ms"),  # IPython's own rounding quirk, kept
        (2.5e-5, "25 \u03bcs"),
        (3.1e-7, "310 ns"),
        (4e-12, "0.004 ns"),
        (0.0, "0 ns"),
        (-1.0, "-1e+09 ns"),
        (60.0, "1min"),
        (61.5, "1min 1s"),
        (3661.0, "1h 1min 1s"),
        (2 * 86400 + 7200.0, "2d 2h"),
    ],
)
def test_format_time_matches_ipython_examples(seconds: float, text: str) -> None:
    assert format_time(seconds) == text


def test_mean_and_deviation() -> None:
    assert mean_pm_std(0.958, 0.402) == "958 ms \u00b1 402 ms"


@given(
    st.one_of(
        st.floats(min_value=0, max_value=1e6, allow_nan=False),
        st.floats(min_value=1e-12, max_value=1e-3),
        st.sampled_from([1e-9, 1e-6, 1e-3, 1.0, 10.0, 100.0, 999.9999e-6, 0.99949]),
    ),
    st.integers(min_value=1, max_value=6),
)
def test_format_time_is_ipythons(seconds: float, precision: int) -> None:
    execution = pytest.importorskip("IPython.core.magics.execution")
    # IPython picks its micro sign by stdout's encoding; make it the notebook's (UTF-8).
    with contextlib.redirect_stdout(io.TextIOWrapper(io.BytesIO(), encoding="utf-8")):
        expected = execution._format_time(seconds, precision)
    assert format_time(seconds, precision) == expected

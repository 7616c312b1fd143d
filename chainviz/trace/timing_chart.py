"""Timings drawn as a chart: one row per chain, then a thinner row per branch.

Each row shows the mean as a bar, the spread as a whisker from the fastest to the
slowest run, and every run as a dot, on one shared time axis; the text at the
right is ``mean ± std. dev.``. Under each chain its branches (see
:func:`chainviz.trace.stats.branches`) show where its time went: a parallel's
branches each take about as long as the chain, a sequence's steps add up to it.
"""

from __future__ import annotations

from collections.abc import Mapping

from chainviz.trace.svg import element, esc, nice_ticks, svg_document, text
from chainviz.trace.timefmt import format_time, mean_pm_std
from chainviz.trace.timing import TimeitResult, Timings

__all__ = ["timing_svg"]

WIDTH = 760
LABEL_WIDTH = 200
VALUE_WIDTH = 140
TOP = 30
CHAIN_ROW = 28
BRANCH_ROW = 18
CHAR_WIDTH = 6.7
CHAIN_COLOUR = "#4a7bd0"
BRANCH_COLOUR = "#9db7e3"


def _rows(results: Mapping[str, TimeitResult]) -> list[tuple[str, Timings, bool]]:
    rows: list[tuple[str, Timings, bool]] = []
    for name, result in results.items():
        rows.append((name or "chain", result, True))
        branches = result.branches
        if list(branches) != [""]:
            rows.extend((_branch_label(result, node_id), timing, False)
                        for node_id, timing in branches.items())
    return rows


def _branch_label(result: TimeitResult, node_id: str) -> str:
    for trace in result.traces:
        runs = trace.runs_of(node_id)
        if runs:
            return f"{node_id or '(root)'} {runs[0].name}"
    return node_id or "(root)"


def _fit(label: str, width: float) -> str:
    room = max(int(width / CHAR_WIDTH), 4)
    return label if len(label) <= room else label[: room - 1] + "\u2026"


def timing_svg(results: Mapping[str, TimeitResult]) -> str:
    """The chart of one or more named timings, as an SVG string."""
    rows = _rows(results)
    longest = max(max(timing.all_runs) for _, timing, _ in rows)
    span = longest * 1.04 or 1.0
    ticks = [tick for tick in nice_ticks(longest) if tick <= span]
    x0 = LABEL_WIDTH + 8
    plot = WIDTH - x0 - VALUE_WIDTH
    heights = [CHAIN_ROW if chain else BRANCH_ROW for _, _, chain in rows]
    bottom = TOP + sum(heights)
    warnings = [
        f"{name}: {result.warning}" if name else str(result.warning)
        for name, result in results.items()
        if result.warning
    ]
    height = bottom + 12 + 16 * len(warnings)

    def x(seconds: float) -> float:
        return x0 + seconds / span * plot

    body: list[str] = []
    for tick in ticks:
        body.append(
            element("line", x1=x(tick), y1=TOP - 6, x2=x(tick), y2=bottom, stroke="#e3e3e3")
        )
        body.append(text(x(tick), TOP - 10, "0" if tick == 0 else format_time(tick),
                         text_anchor="middle", fill="#666"))
    y = float(TOP)
    for (label, timing, chain), row_height in zip(rows, heights):
        middle = y + row_height / 2
        bar = row_height - (10 if chain else 8)
        colour = CHAIN_COLOUR if chain else BRANCH_COLOUR
        indent = 6 if chain else 18
        body.append(text(indent, middle + 4, _fit(label, LABEL_WIDTH - indent),
                         fill="#222" if chain else "#555",
                         font_weight="bold" if chain else None))
        runs = ", ".join(format_time(s) for s in timing.all_runs)
        tip = f"{label}: {mean_pm_std(timing.average, timing.stdev)}; runs: {runs}"
        body.append(element("rect", element("title", esc(tip)), x=x0, y=middle - bar / 2,
                            width=max(x(timing.average) - x0, 1.0), height=bar, rx=2,
                            fill=colour, fill_opacity=0.75))
        body.append(element("line", x1=x(timing.best), y1=middle, x2=x(timing.worst), y2=middle,
                            stroke="#1f1f1f", stroke_width=1.2))
        for edge in (timing.best, timing.worst):
            body.append(element("line", x1=x(edge), y1=middle - bar / 3, x2=x(edge),
                                y2=middle + bar / 3, stroke="#1f1f1f", stroke_width=1.2))
        for seconds in timing.all_runs:
            body.append(element("circle", cx=x(seconds), cy=middle, r=2.4, fill="#1f1f1f",
                                fill_opacity=0.55))
        body.append(text(WIDTH - VALUE_WIDTH + 8, middle + 4,
                         mean_pm_std(timing.average, timing.stdev),
                         fill="#222" if chain else "#555"))
        y += row_height
    for index, warning in enumerate(warnings):
        body.append(text(6, bottom + 16 + 16 * index, warning, fill="#b3261e"))
    names = ", ".join(name or "chain" for name in results)
    return svg_document(WIDTH, height, body, title=f"Timings of {names}")

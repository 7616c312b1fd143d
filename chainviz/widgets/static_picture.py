"""The static picture of a view: what a saved notebook shows where widgets cannot run.

A live view's display carries, beside the widget itself, an ``image/svg+xml``
picture and a ``text/plain`` text of its last state: the graph (coloured by the
last run, critical path in bold), one latency bar per lane on a shared time axis,
and the wall time, the sum of the lanes and the speedup. Viewers without a widget
manager (GitHub, nbconvert) show that picture instead of the widget.

Every string that came from a user (labels, ids, outputs, errors) is escaped with
:func:`esc` before it enters the SVG; the graph SVG comes from
:mod:`chainviz.graph`, which escapes its own text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from chainviz.widgets.state import GLYPHS, Lane, format_seconds

__all__ = ["bars_svg", "esc", "picture_svg", "picture_text", "summary_line"]

WIDTH = 680
LABEL_WIDTH = 170
VALUE_WIDTH = 70
ROW = 22
AXIS = 24
FONT = "font-family:Helvetica,Arial,sans-serif;font-size:12px"
COLOURS = {
    "idle": "#bdbdbd",
    "running": "#1e88e5",
    "done": "#43a047",
    "error": "#e53935",
    "cancelled": "#fb8c00",
}
CRITICAL = "#d84315"
_SVG_OPEN = re.compile(r"<svg\b[^>]*>")
_VIEWBOX = re.compile(r'viewBox="([-\d.]+)[ ,]+([-\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)"')
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def esc(value: object) -> str:
    """Text safe as SVG element content and as a double- or single-quoted attribute."""
    cleaned = _CONTROL.sub("\ufffd", str(value))
    return escape(cleaned, {'"': "&quot;", "'": "&apos;"})


def summary_line(summary: Mapping[str, Any] | None, status: str = "done") -> str:
    """``wall 1.21 s · sum of branches 2.35 s · speedup 1.94×`` (or what is known)."""
    if summary is None:
        return "not run yet" if status == "idle" else f"{status}…"
    parts = [f"wall {format_seconds(summary['wall_s'])}",
             f"sum of branches {format_seconds(summary['sum_s'])}"]
    if summary.get("speedup") is not None:
        parts.append(f"speedup {summary['speedup']:.2f}×")
    if status not in ("done", "idle"):
        parts.append(status)
    return " · ".join(parts)


def bars_svg(lanes: Sequence[Lane], snapshot: Mapping[str, Any], *, width: int = WIDTH,
             y0: float = 0) -> tuple[str, float]:
    """The lane bars as SVG elements (no ``<svg>`` around them) and their height."""
    rows = snapshot.get("lanes") or []
    axis_s = max([float(snapshot.get("elapsed_s") or 0.0)]
                 + [(r["start_s"] or 0) + (r["elapsed_s"] or 0) for r in rows]) or 1.0
    track = width - LABEL_WIDTH - VALUE_WIDTH
    critical = set(snapshot.get("critical") or ())
    parts: list[str] = []
    step = _tick_step(axis_s)
    tick = 0.0
    bottom = y0 + AXIS + ROW * len(rows)
    while tick <= axis_s * 1.0001:
        x = LABEL_WIDTH + track * tick / axis_s
        parts.append(f'<line x1="{x:.1f}" y1="{y0 + AXIS - 4}" x2="{x:.1f}" y2="{bottom}" '
                     'stroke="#e0e0e0" stroke-width="1"/>')
        parts.append(f'<text x="{x:.1f}" y="{y0 + AXIS - 8}" text-anchor="middle" '
                     f'fill="#757575" style="{FONT};font-size:10px">'
                     f"{esc(format_seconds(tick) if tick else '0')}</text>")
        tick += step
    for index, (lane, row) in enumerate(zip(lanes, rows)):
        y = y0 + AXIS + ROW * index
        status = str(row.get("status", "idle"))
        colour = COLOURS.get(status, COLOURS["idle"])
        label = f"{GLYPHS.get(status, '?')} {lane.label}"
        parts.append(f'<text x="4" y="{y + 15}" fill="#212121" style="{FONT}">'
                     f"<title>{esc(lane.id or '(root)')} · {esc(status)}</title>"
                     f"{esc(_clip(label, 24))}</text>")
        if row.get("start_s") is None:
            continue
        x = LABEL_WIDTH + track * float(row["start_s"]) / axis_s
        w = max(track * float(row["elapsed_s"] or 0) / axis_s, 1.5)
        outline = f' stroke="{CRITICAL}" stroke-width="2"' if lane.id in critical else ""
        parts.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{ROW - 8}" '
                     f'rx="3" fill="{colour}"{outline}/>')
        parts.append(f'<text x="{x + w + 4:.1f}" y="{y + 15}" fill="#424242" '
                     f'style="{FONT};font-size:11px">'
                     f"{esc(format_seconds(row.get('elapsed_s')))}</text>")
    return "\n".join(parts), AXIS + ROW * len(rows) + 6


def picture_svg(graph_svg: str | None, lanes: Sequence[Lane],
                snapshot: Mapping[str, Any]) -> str:
    """One SVG: the graph on top (if given), the lane bars, the summary line."""
    graph_part, graph_w, graph_h = "", 0.0, 0.0
    if graph_svg:
        graph_part, graph_w, graph_h = _nested(graph_svg)
    width = int(max(WIDTH, graph_w))
    bars, bars_h = bars_svg(lanes, snapshot, width=width, y0=graph_h + 8)
    summary = summary_line(snapshot.get("summary"), str(snapshot.get("status", "idle")))
    y_summary = graph_h + 8 + bars_h + 14
    height = int(y_summary + 12)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'class="cv-static-picture">\n'
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>\n'
        f"{graph_part}\n{bars}\n"
        f'<text x="4" y="{y_summary}" fill="#212121" style="{FONT};font-weight:bold">'
        f"{esc(summary)}</text>\n</svg>"
    )


def _nested(svg: str) -> tuple[str, float, float]:
    """The graph's ``<svg>`` re-opened as a nested element at the top left, and its size."""
    match = _SVG_OPEN.search(svg)
    if match is None:
        return "", 0.0, 0.0
    box = _VIEWBOX.search(match.group(0))
    if box is None:
        return "", 0.0, 0.0
    x, y, w, h = (float(v) for v in box.groups())
    opening = (f'<svg x="0" y="0" width="{w:.2f}" height="{h:.2f}" '
               f'viewBox="{x} {y} {w} {h}" class="cv-static-graph">')
    body = svg[match.end():]
    return opening + body, w, h


def picture_text(graph_text: str | None, lanes: Sequence[Lane],
                 snapshot: Mapping[str, Any]) -> str:
    """The same picture as text: the graph's text picture, a table of lanes, the summary."""
    rows = snapshot.get("lanes") or []
    lines: list[str] = [graph_text.rstrip(), ""] if graph_text else []
    width = max([len(lane.label) for lane in lanes] + [4])
    for lane, row in zip(lanes, rows):
        status = str(row.get("status", "idle"))
        start = row.get("start_s")
        when = "" if start is None else f"  at +{format_seconds(start)}"
        took = "" if row.get("elapsed_s") is None else format_seconds(row["elapsed_s"])
        line = f"{GLYPHS.get(status, '?')} {lane.label:<{width}}  {status:<9} {took:>8}{when}"
        if row.get("error"):
            line += f"  {row['error_node']}: {_clip(str(row['error']), 80)}"
        lines.append(_CONTROL.sub("\ufffd", line.rstrip()))
    lines.append(summary_line(snapshot.get("summary"), str(snapshot.get("status", "idle"))))
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tick_step(span: float) -> float:
    raw = span / 5
    magnitude = math.pow(10.0, math.floor(math.log10(raw))) if raw > 0 else 1.0
    for factor in (1.0, 2.0, 2.5, 5.0):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10.0 * magnitude

"""The static picture of a batch view, for saved notebooks where widgets cannot run.

From a :meth:`~chainviz.widgets.batch_state.BatchState.snapshot` it draws what the live
view shows: the headline (status, items, time, throughput), the progress bar (done,
failed, cancelled, in flight), the per-step latency table (p50, p95, max) and the
errors grouped by type, as an ``image/svg+xml`` picture and as ``text/plain``. Every
string that came from a user (step labels, error messages, worker names) goes through
:func:`~chainviz.widgets.static_picture.esc` before it enters the SVG.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chainviz.widgets.state import GLYPHS, format_seconds
from chainviz.widgets.static_picture import _CONTROL, COLOURS, FONT, esc

__all__ = ["batch_svg", "batch_text", "counts_line", "headline"]

WIDTH = 680
BAR_CHARS = 40
ROW = 18
TABLE_ROWS = 12
ERROR_ROWS = 5
WORDS = {"idle": "not run", "running": "running", "done": "done", "error": "failed",
         "cancelled": "stopped"}
SEGMENTS = (("done", COLOURS["done"]), ("failed", COLOURS["error"]),
            ("cancelled", COLOURS["cancelled"]), ("in_flight", COLOURS["running"]))


def format_rate(rate: float | None) -> str:
    if rate is None:
        return "–"
    return f"{rate:,.0f} items/s" if rate >= 10 else f"{rate:.2f} items/s"


def headline(snap: Mapping[str, Any]) -> str:
    """``done · 10,000 items in 12.3 s · 812 items/s``."""
    status = str(snap.get("status", "idle"))
    total = int(snap.get("total") or 0)
    if status == "idle":
        return f"{GLYPHS['idle']} batch of {total:,} items, not run yet"
    finished = int(snap.get("finished") or 0)
    elapsed = format_seconds(float(snap.get("elapsed_s") or 0.0))
    rate = format_rate(snap.get("rate_overall"))
    return (f"{GLYPHS.get(status, '?')} {WORDS.get(status, status)} · {finished:,} of "
            f"{total:,} items in {elapsed} · {rate}")


def counts_line(snap: Mapping[str, Any]) -> str:
    parts = [f"{int(snap.get(key) or 0):,} {key}" for key in ("done", "failed", "cancelled")]
    if snap.get("in_flight") is not None:
        parts.append(f"{int(snap['in_flight']):,} in flight")
    parts.append(f"{int(snap.get('pending') or 0):,} pending")
    if snap.get("status") == "running" and snap.get("rate_window") is not None:
        parts.append(f"{format_rate(snap['rate_window'])} over the last "
                     f"{float(snap.get('window_s') or 0):g} s")
    if int(snap.get("workers") or 0) > 1:
        parts.append(f"{int(snap['workers'])} worker processes")
    return " · ".join(parts)


def _step_rows(snap: Mapping[str, Any]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for step in list(snap.get("steps") or [])[:TABLE_ROWS]:
        label = "  " * max(0, int(step.get("depth") or 0) - 1) + str(step.get("label", ""))
        if step.get("id"):
            label += f" [{step['id']}]"
        rows.append((_clip(label, 40), f"{int(step.get('count') or 0):,}",
                     format_seconds(step.get("p50")), format_seconds(step.get("p95")),
                     format_seconds(step.get("max"))))
    return rows


def _error_lines(snap: Mapping[str, Any]) -> list[str]:
    return [
        f"{g['type']} ×{int(g['count']):,}, first in item {g['first_index']}: "
        f"{_clip(str(g['message']), 90)}"
        for g in list(snap.get("errors") or [])[:ERROR_ROWS]
    ]


def batch_text(snap: Mapping[str, Any]) -> str:
    """The picture as text: headline, a bar of characters, counts, step table, errors."""
    total = max(1, int(snap.get("total") or 0))
    filled = round(BAR_CHARS * int(snap.get("finished") or 0) / total)
    percent = 100 * int(snap.get("finished") or 0) / total
    lines = [headline(snap),
             f"[{'#' * filled}{'.' * (BAR_CHARS - filled)}] {percent:.0f}%",
             counts_line(snap)]
    rows = _step_rows(snap)
    if rows:
        width = max([4] + [len(r[0]) for r in rows])
        lines += ["", f"{'step':<{width}}  {'n':>7}  {'p50':>8}  {'p95':>8}  {'max':>8}"]
        lines += [f"{a:<{width}}  {b:>7}  {c:>8}  {d:>8}  {e:>8}" for a, b, c, d, e in rows]
    errors = _error_lines(snap)
    if errors:
        lines += ["", "errors:"] + [f"  {line}" for line in errors]
    return "\n".join(_CONTROL.sub("\ufffd", line) for line in lines)


def batch_svg(snap: Mapping[str, Any]) -> str:
    """One SVG: headline, progress bar, counts, step table and errors."""
    parts: list[str] = []
    y = 18.0

    def text(x: float, value: str, *, extra: str = "", anchor: str = "start",
             colour: str = "#212121") -> None:
        parts.append(f'<text x="{x:.1f}" y="{y:.1f}" fill="{colour}" text-anchor="{anchor}" '
                     f'style="{FONT}{extra}">{esc(value)}</text>')

    text(4, headline(snap), extra=";font-weight:bold")
    y += 10
    total = max(1, int(snap.get("total") or 0))
    track = WIDTH - 8
    parts.append(f'<rect x="4" y="{y:.1f}" width="{track}" height="14" rx="3" '
                 f'fill="{COLOURS["idle"]}" fill-opacity="0.35"/>')
    x = 4.0
    for key, colour in SEGMENTS:
        share = track * int(snap.get(key) or 0) / total
        if share > 0:
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{share:.1f}" height="14" '
                         f'fill="{colour}"><title>{esc(key.replace("_", " "))}</title></rect>')
            x += share
    y += 30
    text(4, counts_line(snap), extra=";font-size:11px", colour="#424242")
    rows = _step_rows(snap)
    if rows:
        y += 24
        columns = (4, 430, 500, 570, WIDTH - 4)
        for column, head in zip(columns, ("step", "n", "p50", "p95", "max")):
            text(column, head, extra=";font-weight:bold",
                 anchor="start" if column == 4 else "end")
        for row in rows:
            y += ROW
            for column, value in zip(columns, row):
                text(column, value, anchor="start" if column == 4 else "end")
    errors = _error_lines(snap)
    if errors:
        y += 26
        text(4, "errors", extra=";font-weight:bold", colour=COLOURS["error"])
        for line in errors:
            y += ROW
            text(4, _clip(line, 110), extra=";font-size:11px")
    height = int(y + 12)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" class="cv-batch-picture">\n'
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>\n'
        + "\n".join(parts) + "\n</svg>"
    )


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""A trace drawn as a waterfall: one row per step on a shared time axis.

Each row is a node, indented by its depth, with one bar per run (a retried step
has several) from its start offset for its duration, coloured by status. Steps of
a sequence follow one another (the parent's bar is their sum); branches of a
parallel overlap (the parent's bar is their max). Bars on the critical path are
outlined. The same rows also render as a compact text table.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainviz.trace import stats
from chainviz.trace.model import NodeRun, Trace
from chainviz.trace.scrub import scrub
from chainviz.trace.svg import STATUS_COLOURS, element, esc, nice_ticks, svg_document, text
from chainviz.trace.timefmt import format_time

__all__ = ["Row", "rows", "waterfall_svg", "waterfall_text"]

WIDTH = 760
LABEL_WIDTH = 250
RIGHT_MARGIN = 130
ROW_HEIGHT = 20
TOP = 30
CHAR_WIDTH = 6.7
INDENT = 12


@dataclass(frozen=True, slots=True)
class Row:
    """One node: its id, depth below the root and every run of it."""

    node_id: str
    depth: int
    runs: tuple[NodeRun, ...]

    @property
    def label(self) -> str:
        first = self.runs[0]
        return f"{self.node_id or '(root)'} {first.name}"

    @property
    def status(self) -> str:
        return "running" if any(r.status == "running" for r in self.runs) else self.runs[-1].status


def rows(trace: Trace) -> list[Row]:
    """The nodes in depth-first order (children by start time), each once."""
    order: list[str] = []
    depth: dict[str, int] = {}
    pending = [(trace.root, 0)]
    while pending:
        run, level = pending.pop()
        if run.node_id not in depth:
            depth[run.node_id] = level
            order.append(run.node_id)
        pending.extend((child, level + 1) for child in reversed(trace.children(run)))
    return [Row(node_id, depth[node_id], trace.runs_of(node_id)) for node_id in order]


def _end(run: NodeRun, trace: Trace) -> int:
    return trace.snapshot_ns if run.end_ns is None else run.end_ns


def _row_seconds(row: Row, trace: Trace) -> float:
    start = min(run.start_ns for run in row.runs)
    return (max(_end(run, trace) for run in row.runs) - start) / 1e9


def _duration_text(row: Row, trace: Trace) -> str:
    took = format_time(_row_seconds(row, trace))
    return took if row.status == "done" else f"{took} {row.status}"


def _fit(label: str, width: float) -> str:
    room = max(int(width / CHAR_WIDTH), 4)
    return label if len(label) <= room else label[: room - 1] + "\u2026"


def _axis(span_s: float, x0: float, bar_width: float, height: float) -> list[str]:
    parts: list[str] = []
    for tick in nice_ticks(span_s):
        if tick > span_s * 1.0001 and tick > 0:
            break
        x = x0 + (tick / span_s * bar_width if span_s else 0)
        parts.append(element("line", x1=x, y1=TOP - 6, x2=x, y2=height, stroke="#e3e3e3"))
        parts.append(text(x, TOP - 10, "0" if tick == 0 else format_time(tick),
                          text_anchor="middle", fill="#666"))
    return parts


def _summary_line(trace: Trace) -> str:
    summary = stats.summarize(trace)
    parts = []
    if summary.wall_s is not None:
        parts.append(f"wall {format_time(summary.wall_s)}")
    if summary.branch_sum_s is not None and len(summary.branches) > 1:
        parts.append(f"sum of {len(summary.branches)} branches {format_time(summary.branch_sum_s)}")
    if summary.speedup is not None and len(summary.branches) > 1:
        parts.append(f"speedup {summary.speedup:.2f}\u00d7")
    return " \u00b7 ".join(parts) or f"{trace.root.status}"


def waterfall_svg(trace: Trace) -> str:
    """The waterfall as a standalone SVG string."""
    table = rows(trace)
    origin = trace.start_ns
    span_ns = max(max(_end(run, trace) for run in trace.runs) - origin, 1)
    span_s = span_ns / 1e9
    x0 = LABEL_WIDTH + 8
    bar_width = WIDTH - x0 - RIGHT_MARGIN
    bottom = TOP + len(table) * ROW_HEIGHT
    height = bottom + 44
    critical = set(stats.critical_path(trace))
    body = _axis(span_s, x0, bar_width, bottom)
    for index, row in enumerate(table):
        y = TOP + index * ROW_HEIGHT
        indent = 6 + row.depth * INDENT
        body.append(text(indent, y + 14, _fit(row.label, LABEL_WIDTH - indent), fill="#222"))
        last_x: float = x0
        for run in row.runs:
            start = x0 + (run.start_ns - origin) / span_ns * bar_width
            width = max((_end(run, trace) - run.start_ns) / span_ns * bar_width, 1.0)
            last_x = max(last_x, start + width)
            tip = (
                f"{run.node_id or '(root)'} \u00b7 {run.name} ({run.kind}) \u00b7 "
                f"{run.status} \u00b7 "
                f"starts at {format_time((run.start_ns - origin) / 1e9)}, takes "
                f"{format_time((_end(run, trace) - run.start_ns) / 1e9)}"
            )
            if run.error is not None:
                # A saved notebook keeps this picture: scrub it like an export.
                tip += f" \u00b7 {run.error.type}: {scrub(run.error.message)}"
            rect = element(
                "rect",
                element("title", esc(tip)),
                x=start, y=y + 3, width=width, height=ROW_HEIGHT - 6, rx=2,
                fill=STATUS_COLOURS.get(run.status, "#777"),
                stroke="#1f1f1f" if row.node_id in critical else None,
                stroke_width=1.2 if row.node_id in critical else None,
            )
            body.append(rect)
        body.append(text(last_x + 4, y + 14, _duration_text(row, trace), fill="#444"))
    legend_y = bottom + 18
    x = 6.0
    for status in ("done", "error", "cancelled", "running"):
        if any(row.status == status for row in table):
            body.append(element("rect", x=x, y=legend_y - 9, width=10, height=10,
                                fill=STATUS_COLOURS[status]))
            body.append(text(x + 14, legend_y, status, fill="#444"))
            x += 24 + len(status) * CHAR_WIDTH
    body.append(element("rect", x=x, y=legend_y - 9, width=10, height=10, fill="none",
                        stroke="#1f1f1f", stroke_width=1.2))
    body.append(text(x + 14, legend_y, "critical path", fill="#444"))
    body.append(text(6, legend_y + 18, _summary_line(trace), fill="#222"))
    title = f"Waterfall of {trace.root.name}: {_summary_line(trace)}"
    return svg_document(WIDTH, height, body, title=title)


def waterfall_text(trace: Trace) -> str:
    """The same rows as a text table (what a terminal or ``text/plain`` shows)."""
    origin = trace.start_ns
    header = ("node", "kind", "status", "start", "duration", "tokens")
    lines: list[tuple[str, ...]] = [header]
    for row in rows(trace):
        first = row.runs[0]
        start = min(run.start_ns for run in row.runs)
        tokens = sum(run.tokens for run in row.runs)
        repeats = f" \u00d7{len(row.runs)}" if len(row.runs) > 1 else ""
        lines.append((
            "  " * row.depth + (row.node_id or "(root)") + repeats,
            first.kind,
            row.status,
            format_time((start - origin) / 1e9) if start > origin else "0",
            format_time(_row_seconds(row, trace)),
            str(tokens) if tokens else "",
        ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    table = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()
        for line in lines
    ]
    table.append(_summary_line(trace))
    path = " \u2192 ".join(node or "(root)" for node in stats.critical_path(trace))
    table.append(f"critical path: {path}")
    return "\n".join(table)

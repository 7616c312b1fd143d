"""Small helpers for writing SVG as text: escaping, elements, a time axis.

Every piece of text that came from a user (node ids, names, messages) passes
through :func:`esc`, which escapes ``&``, ``<``, ``>`` and both quotes, so it is
safe both as element text and inside an attribute value.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

__all__ = [
    "STATUS_COLOURS",
    "element",
    "esc",
    "nice_ticks",
    "svg_document",
    "text",
]

_QUOTES = {'"': "&quot;", "'": "&apos;"}

#: Fill colour per run status.
STATUS_COLOURS = {
    "done": "#4c9a6a",
    "error": "#d0453f",
    "cancelled": "#ef6c00",  # orange, as in the live view and the graph
    "running": "#4a7bd0",
}

FONT = "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11px"


def esc(value: object) -> str:
    """``value`` as text that is safe in SVG element content and attribute values."""
    return escape(str(value), _QUOTES)


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def element(tag: str, content: str = "", /, **attributes: object) -> str:
    """``<tag a="1">content</tag>`` (``class_`` → ``class``, ``font_size`` → ``font-size``)."""
    attrs = "".join(
        f' {name.rstrip("_").replace("_", "-")}="'
        f'{_number(value) if isinstance(value, (int, float)) else esc(value)}"'
        for name, value in attributes.items()
        if value is not None
    )
    if content:
        return f"<{tag}{attrs}>{content}</{tag}>"
    return f"<{tag}{attrs}/>"


def text(x: float, y: float, value: object, **attributes: object) -> str:
    """A ``<text>`` element whose content is escaped."""
    return element("text", esc(value), x=x, y=y, **attributes)


def svg_document(width: float, height: float, body: list[str], *, title: str) -> str:
    """A standalone SVG document (it also works inline in HTML)."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_number(width)}" '
        f'height="{_number(height)}" viewBox="0 0 {_number(width)} {_number(height)}" '
        f'role="img" style="{FONT}">'
        f"<title>{esc(title)}</title>" + "".join(body) + "</svg>"
    )


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``maximum`` (steps of 1, 2 or 5 × 10^k)."""
    if not maximum > 0 or not math.isfinite(maximum):
        return [0.0]
    rough = maximum / count
    magnitude = 10.0 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    ticks = [0.0]
    while ticks[-1] < maximum - 1e-12 * maximum:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks

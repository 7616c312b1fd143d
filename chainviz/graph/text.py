"""Making any string safe to show: no control characters, bounded length, known width.

Keys and names come from users and may hold anything: quotes, markup, newlines,
NUL, lone surrogates, wide CJK characters. Every renderer first passes display
text through :func:`clean`, so what reaches DOT, SVG, Mermaid or a terminal is
printable, valid in XML 1.0 and encodable as UTF-8. Each format then applies its
own escaping on top (see :mod:`chainviz.graph.dot` and :mod:`chainviz.graph.mermaid`).
"""

from __future__ import annotations

import unicodedata

__all__ = ["char_width", "clean", "display_width", "lines", "shorten"]

ELLIPSIS = "…"
#: How many characters of one label line a picture shows before it shortens the line.
MAX_LINE = 40
#: How many lines of one label a picture shows.
MAX_LINES = 4

_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _visible(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # C0 controls become control pictures: NUL → ␀, ESC → ␛
    if code == 0x7F:
        return "\u2421"  # DEL → ␡
    if 0x80 <= code <= 0x9F or 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
        return "\ufffd"  # C1 controls, lone surrogates and XML non-characters
    if char in _BIDI_CONTROLS:
        return "\ufffd"  # direction overrides could make a label read as another one
    return char


def clean(text: str) -> str:
    """``text`` with every line break as ``\\n`` and other controls made visible.

    A tab becomes a space; ``\\r\\n``, ``\\r`` and the Unicode line and paragraph
    separators become ``\\n``. The result holds no character that XML 1.0 forbids,
    no lone surrogate and no direction override.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    if text.isascii() and text.replace("\n", " ").isprintable():
        return text
    return "".join(c if c == "\n" else _visible(c) for c in text)


def lines(text: str, limit: int = MAX_LINE, max_lines: int = MAX_LINES) -> list[str]:
    """The cleaned lines of ``text``: each at most ``limit`` columns, at most ``max_lines``."""
    parts = clean(text).split("\n")
    if len(parts) > max_lines:
        parts = [*parts[: max_lines - 1], ELLIPSIS]
    return [shorten(line, limit) for line in parts]


def char_width(char: str) -> int:
    """Terminal columns one character takes: 0 (combining), 1, or 2 (wide)."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes (``text`` holds no line breaks)."""
    if text.isascii():
        return len(text)
    return sum(char_width(c) for c in text)


def shorten(text: str, limit: int = MAX_LINE) -> str:
    """``text`` cut to at most ``limit`` columns, ending in ``…`` when cut."""
    if display_width(text) <= limit:
        return text
    kept: list[str] = []
    used = 0
    for char in text:
        width = char_width(char)
        if used + width > limit - 1:
            break
        kept.append(char)
        used += width
    return "".join(kept) + ELLIPSIS

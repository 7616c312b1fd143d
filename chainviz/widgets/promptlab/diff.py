"""A word-level diff of two prompt versions (``difflib``), as data and as safe HTML.

Text is split into words, runs of white space and single punctuation marks, so
``"a joke about {topic}"`` → ``"a short joke about {topic}"`` is one inserted word
(and its space), not a changed line; white space alone never anchors a match.
:func:`diff_html` escapes every piece: a prompt holding markup shows as those characters.
"""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["DiffPart", "diff_html", "word_diff", "words"]

Op = Literal["equal", "insert", "delete"]

_WORD = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True, slots=True)
class DiffPart:
    """A stretch of text that is in both versions, only in the new one, or only in the old."""

    op: Op
    text: str


def words(text: str) -> list[str]:
    """``text`` cut into words, spaces and punctuation; they join back to ``text``."""
    return _WORD.findall(text)


def word_diff(old: str, new: str) -> tuple[DiffPart, ...]:
    """How to go from ``old`` to ``new``, word by word; adjacent parts of one kind merged."""
    a, b = words(old), words(new)
    parts: list[DiffPart] = []

    def add(op: Op, pieces: list[str]) -> None:
        text = "".join(pieces)
        if not text:
            return
        if parts and parts[-1].op == op:
            parts[-1] = DiffPart(op, parts[-1].text + text)
        else:
            parts.append(DiffPart(op, text))

    # Runs of white space are "junk": never an anchor for a match (a lone shared space
    # would cut one changed phrase in two), though matches may take them in.
    matcher = difflib.SequenceMatcher(str.isspace, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            add("equal", a[i1:i2])
        else:  # a replacement is a deletion, then an insertion
            add("delete", a[i1:i2])
            add("insert", b[j1:j2])
    return tuple(parts)


def diff_html(old: str, new: str) -> str:
    """The diff as HTML: ``<del>`` old words, ``<ins>`` new ones, all text escaped."""
    out = []
    for part in word_diff(old, new):
        text = html.escape(part.text, quote=True)
        if part.op == "insert":
            out.append(f'<ins class="cv-ins">{text}</ins>')
        elif part.op == "delete":
            out.append(f'<del class="cv-del">{text}</del>')
        else:
            out.append(text)
    return "".join(out)

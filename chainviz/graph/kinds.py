"""How each kind of step looks: a Graphviz shape, colours, a Mermaid shape, a CSS class.

Kinds tell apart at a glance by shape *and* colour (shape alone survives a
black-and-white print or colour blindness). Colours are 6-digit hex: Debian's
Graphviz 2.43 rejects the short ``#eef`` form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "CLUSTER_STYLES",
    "JOIN_COLOR",
    "KindStyle",
    "cluster_style_of",
    "css_class",
    "slug",
    "style_of",
]


@dataclass(frozen=True, slots=True)
class KindStyle:
    shape: str
    fill: str
    border: str
    #: Graphviz ``style`` for a node of this kind.
    style: str = "filled"
    #: The opening and closing brackets of a Mermaid node of this shape.
    mermaid: tuple[str, str] = ('["', '"]')


_STYLES: dict[str, KindStyle] = {
    "prompt": KindStyle("note", "#fff8e1", "#f9a825", mermaid=('>"', '"]')),
    "model": KindStyle("box", "#e3f2fd", "#1e88e5", "rounded,filled", ('("', '")')),
    "parser": KindStyle("parallelogram", "#f3e5f5", "#8e24aa", mermaid=('[/"', '"/]')),
    "retriever": KindStyle("cylinder", "#e8f5e9", "#43a047", mermaid=('[("', '")]')),
    "embeddings": KindStyle("invtrapezium", "#f1f8e9", "#7cb342", mermaid=('[\\"', '"/]')),
    "function": KindStyle("component", "#eceff1", "#546e7a", mermaid=('[["', '"]]')),
    "parallel": KindStyle("trapezium", "#e0f7fa", "#00acc1", mermaid=('[/"', '"\\]')),
    "assign": KindStyle("hexagon", "#fce4ec", "#d81b60", mermaid=('{{"', '"}}')),
    "passthrough": KindStyle("ellipse", "#fafafa", "#9e9e9e", "filled,dashed", ('(["', '"])')),
    "sequence": KindStyle("box", "#ffffff", "#78909c", "filled,dashed"),
}
# Other names the same kinds go by.
_STYLES["chat_model"] = _STYLES["llm"] = _STYLES["model"]
_STYLES["lambda"] = _STYLES["generator"] = _STYLES["function"]

DEFAULT_STYLE = KindStyle("box", "#ffffff", "#757575")
JOIN_COLOR = "#00838f"

#: Graphviz ``(style, fill, border)`` of the cluster drawn around a composite, by kind.
CLUSTER_STYLES: dict[str, tuple[str, str, str]] = {
    "sequence": ("rounded,filled", "#fbfcfd", "#b0bec5"),
    "parallel": ("rounded,filled,dashed", "#f4fcfd", "#4dd0e1"),
    "assign": ("rounded,filled,dashed", "#fff8fb", "#f48fb1"),
}
DEFAULT_CLUSTER_STYLE = ("rounded,filled", "#fcfcfc", "#bdbdbd")


def style_of(kind: str) -> KindStyle:
    """The look of ``kind`` (a plain box for kinds without their own)."""
    return _STYLES.get(kind, DEFAULT_STYLE)


def cluster_style_of(kind: str) -> tuple[str, str, str]:
    return CLUSTER_STYLES.get(kind, DEFAULT_CLUSTER_STYLE)


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """``text`` as a CSS class fragment: lower-case letters, digits and single hyphens."""
    value = _NOT_SLUG.sub("-", text.lower()).strip("-")[:40].strip("-")
    return value or "other"


def css_class(kind: str) -> str:
    """The CSS class of a node of ``kind``: ``cv-kind-model``."""
    return f"cv-kind-{slug(kind)}"

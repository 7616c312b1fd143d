"""A chain's graph: its structure as a frozen value, and pictures of it.

``build_graph(chain)`` (or ``chain.get_graph()``) gives a :class:`Graph` whose node
ids and kinds are the ones run events carry, so a picture can be coloured by a
run. The graph draws itself as DOT (:meth:`Graph.to_dot`), SVG
(:meth:`Graph.to_svg`, with no system Graphviz needed), Mermaid
(:meth:`Graph.draw_mermaid`) and text (:meth:`Graph.draw_ascii`). A finished run,
any object with ``node_summaries()`` and ``critical_path()`` (see
:mod:`chainviz.graph.overlay`), can be drawn on it with ``to_svg(trace=...)``.

Only this package's SVG rendering needs the ``graph`` extra
(``pip install 'chainviz[graph]'``); building the graph, DOT, Mermaid and text
need nothing beyond the standard library.
"""

from __future__ import annotations

from chainviz.graph.build import build_graph
from chainviz.graph.engines import ENV_VAR, choose_engine, warm_up
from chainviz.graph.model import Cluster, Edge, EdgeKind, Graph, Join, Layout, Node
from chainviz.graph.overlay import TraceLike

__all__ = [
    "ENV_VAR",
    "Cluster",
    "Edge",
    "EdgeKind",
    "Graph",
    "Join",
    "Layout",
    "Node",
    "TraceLike",
    "build_graph",
    "choose_engine",
    "warm_up",
]

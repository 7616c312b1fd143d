"""A chain's graph: its structure as a frozen value, and pictures of it.

``build_graph(chain)`` (or ``chain.get_graph()``) gives a :class:`Graph` whose node
ids and kinds are the ones run events carry, so a picture can be coloured by a
run.
"""

from __future__ import annotations

from chainviz.graph.build import build_graph
from chainviz.graph.model import Cluster, Edge, Graph, Join, Node
from chainviz.graph.overlay import TraceLike

__all__ = ["Cluster", "Edge", "Graph", "Join", "Node", "TraceLike", "build_graph"]

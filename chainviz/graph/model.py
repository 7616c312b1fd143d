"""The graph of a chain as a frozen value: nodes, edges, clusters and join points.

A :class:`Node` is one step that runs: a runnable that is not a transparent
wrapper. Its ``id`` is the step's node id, the same string every run event of that
step carries (see :mod:`chainviz.core.ids`), and its ``kind`` is the runnable's.

How a node is drawn follows its ``layout``:

* ``"leaf"`` — one box;
* ``"chain"`` (a sequence) — a cluster around its steps, joined by ``"next"`` edges
  from each step's exit to the following step's entry; the cluster is the node;
* ``"fan"`` (a parallel, an assign, any other composite) — a cluster holding the
  node itself as the fork, its branches, and a :class:`Join` point; ``"branch"``
  edges labelled with the keys fan out to the branches, ``"merge"`` edges come back
  in to the join, and an assign's ``"keep"`` edge carries its input past them.

Join ids are the fan's id plus a ``~join`` part (``"0/~join"``, or ``"~join"`` at the
root). A real node id never holds ``~`` followed by anything but ``0`` or ``1``
(keys are escaped), so a join id cannot clash with a node id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from chainviz.core import ids

if TYPE_CHECKING:
    from chainviz.graph.overlay import TraceLike

__all__ = ["Cluster", "Edge", "EdgeKind", "Graph", "Join", "Layout", "Node", "join_id"]

Layout = Literal["leaf", "chain", "fan"]
EdgeKind = Literal["next", "branch", "merge", "keep"]

#: The id part of a join point; escaped keys never contain it (see the module docstring).
JOIN_PART = "~join"


def join_id(fan_id: str) -> str:
    """The id of the point where the branches of the fan ``fan_id`` meet."""
    return ids.join(fan_id, JOIN_PART)


@dataclass(frozen=True, slots=True)
class Node:
    """One step. ``label`` is what pictures show: the name, plus notes on wrappers."""

    id: str
    kind: str
    name: str
    label: str
    #: The id of the composite holding this step; None for the root.
    parent: str | None = None
    #: The key this step has in its parent (a branch key, or a sequence index as text).
    key: str | None = None
    layout: Layout = "leaf"
    #: Transparent wrappers looked through to reach this step, e.g. ``("retry ×3",)``.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Join:
    """Where a fan's branches come back together."""

    id: str
    #: The id of the fan node whose branches meet here.
    of: str


@dataclass(frozen=True, slots=True)
class Edge:
    """Data flowing from ``source`` to ``target`` (node or join ids)."""

    source: str
    target: str
    #: The branch key on a ``"branch"`` edge; empty otherwise.
    label: str = ""
    kind: EdgeKind = "next"


@dataclass(frozen=True, slots=True)
class Cluster:
    """The box drawn around a composite's children; ``id`` is the composite's node id."""

    id: str
    kind: str
    label: str
    #: The id of the enclosing cluster; None for the outermost.
    parent: str | None
    #: Node and join ids drawn directly inside (a fan's own node is its first member).
    members: tuple[str, ...]


@dataclass(frozen=True)
class Graph:
    """A chain's structure; build one with :func:`chainviz.graph.build_graph`."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    joins: tuple[Join, ...] = ()
    _by_id: Mapping[str, Node] = field(init=False, repr=False, compare=False)
    _children: Mapping[str | None, tuple[Node, ...]] = field(
        init=False, repr=False, compare=False
    )
    _fan_of: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.nodes:
            raise ValueError("A graph needs at least one node: the root.")
        by_id = {node.id: node for node in self.nodes}
        if len(by_id) != len(self.nodes):
            raise ValueError("A graph's node ids must be unique.")
        ends = by_id.keys() | {join.id for join in self.joins}
        for edge in self.edges:
            if edge.source not in ends or edge.target not in ends:
                raise ValueError(
                    f"Edge {edge.source!r} → {edge.target!r} names a node that is not in the graph."
                )
        children: dict[str | None, list[Node]] = {}
        for node in self.nodes:
            children.setdefault(node.parent, []).append(node)
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_fan_of", {join.id: join.of for join in self.joins})
        object.__setattr__(self, "_children", {k: tuple(v) for k, v in children.items()})

    # ------------------------------------------------------------------ looking up

    @property
    def root(self) -> Node:
        """The node of the whole chain (id ``""``)."""
        return self.nodes[0]

    def node(self, node_id: str) -> Node:
        """The node with this id."""
        try:
            return self._by_id[node_id]
        except KeyError:
            raise KeyError(
                f"The graph has no node {node_id!r}; its ids are: "
                f"{', '.join(repr(n.id) for n in self.nodes[:20])}"
                f"{', …' if len(self.nodes) > 20 else ''}."
            ) from None

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._by_id

    def children(self, node_id: str) -> tuple[Node, ...]:
        """The direct steps of a composite, in order (empty for a leaf)."""
        return self._children.get(node_id, ())

    def owner(self, end_id: str) -> str:
        """The node an edge end belongs to: the node itself, or the fan a join is of."""
        return self._fan_of.get(end_id, end_id)

    def entry(self, node_id: str) -> str:
        """The id where data enters a step: itself, or a chain's first step's entry."""
        node = self.node(node_id)
        while node.layout == "chain":
            node = self.children(node.id)[0]
        return node.id

    def exit(self, node_id: str) -> str:
        """The id where data leaves a step: itself, a fan's join, a chain's last exit."""
        node = self.node(node_id)
        while node.layout == "chain":
            node = self.children(node.id)[-1]
        return join_id(node.id) if node.layout == "fan" else node.id

    # ------------------------------------------------------------------- pictures

    def to_dot(self, trace: TraceLike | None = None) -> str:
        """Graphviz DOT text; with ``trace``, coloured by each node's status."""
        from chainviz.graph.dot import to_dot

        return to_dot(self, trace)

    def to_svg(self, trace: TraceLike | None = None, *, engine: str | None = None) -> str:
        """An SVG picture (see :func:`chainviz.graph.svg.to_svg`)."""
        from chainviz.graph.svg import to_svg

        return to_svg(self, trace, engine=engine)

    def draw_mermaid(self) -> str:
        """Mermaid ``flowchart`` text."""
        from chainviz.graph.mermaid import draw_mermaid

        return draw_mermaid(self)

    def draw_ascii(
        self, trace: TraceLike | None = None, *, max_width: int = 100, charset: str = "unicode"
    ) -> str:
        """A text picture for terminals and logs, top to bottom (see
        :mod:`chainviz.graph.ascii`); with ``trace``, each step's status and latency."""
        from chainviz.graph.ascii import draw_ascii

        return draw_ascii(self, trace, max_width=max_width, charset=charset)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> dict[str, str]:
        from chainviz.graph.notebook import graph_mimebundle

        return graph_mimebundle(self, include, exclude)

    def __repr__(self) -> str:
        return (
            f"Graph({len(self.nodes)} nodes, {len(self.edges)} edges, "
            f"{len(self.clusters)} clusters, root {self.root.kind} {self.root.name!r})"
        )

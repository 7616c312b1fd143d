"""From a runnable's structure to a :class:`~chainviz.graph.model.Graph`.

Only ``children()``, ``kind``, ``get_name()`` and ``transparent`` are read; nothing
is inferred from source code. Ids follow :mod:`chainviz.core.ids` exactly as a run
does: a child's escaped key is appended with ``/``, and a child under the key
None (a transparent wrapper's inner runnable) keeps its parent's id.
"""

from __future__ import annotations

import itertools
from typing import Any

from chainviz.core import ids
from chainviz.core.base import Runnable
from chainviz.core.coerce import reject_langchain
from chainviz.core.configurable import ConfigurableAlternatives, ConfigurableFields
from chainviz.core.passthrough import RunnableAssign
from chainviz.core.sequence import RunnableSequence
from chainviz.core.wrappers import RunnableRetry, RunnableWithFallbacks
from chainviz.errors import CompositionError, describe_node
from chainviz.graph.model import Cluster, Edge, Graph, Join, Layout, Node, join_id

__all__ = ["build_graph"]


def build_graph(runnable: Runnable[Any, Any]) -> Graph:
    """The graph of ``runnable``: one node per step that runs, with its node id and kind.

    Raises :class:`~chainviz.errors.CompositionError` for anything that is not a
    chainviz runnable (a LangChain runnable included), and for a structure that
    would give two steps one id.
    """
    if not isinstance(runnable, Runnable):
        reject_langchain(runnable, "a graph (build_graph)")
        raise CompositionError(
            f"build_graph needs a chainviz runnable, but a {type(runnable).__name__} "
            f"({runnable!r:.60}) was given. Compose it into a chain first, "
            "e.g. chainviz.coerce_to_runnable(value).get_graph()."
        )
    builder = _Builder()
    builder.visit(runnable, ids.ROOT, None, None, frozenset())
    return Graph(
        nodes=tuple(builder.nodes),
        edges=tuple(builder.edges),
        clusters=tuple(builder.clusters),
        joins=tuple(builder.joins),
    )


def wrapper_note(wrapper: Runnable[Any, Any]) -> str | None:
    """A few words on what a transparent wrapper adds, shown under the step's name."""
    if isinstance(wrapper, RunnableRetry):
        return f"retry ×{wrapper.stop_after_attempt}"
    if isinstance(wrapper, RunnableWithFallbacks):
        count = len(wrapper.fallbacks)
        return f"{count} fallback{'s' if count != 1 else ''}"
    if isinstance(wrapper, ConfigurableAlternatives):
        return "alternatives: " + ", ".join(wrapper.options)  # the default (shown) first
    if isinstance(wrapper, ConfigurableFields):
        return "configurable: " + ", ".join(f.id for f in wrapper.fields.values())
    return None  # bound config and arguments change nothing a picture shows


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.clusters: list[Cluster] = []
        self.joins: list[Join] = []
        self.seen: set[str] = set()

    def visit(
        self,
        runnable: Runnable[Any, Any],
        node_id: str,
        key: str | None,
        parent: str | None,
        ancestors: frozenset[int],
    ) -> tuple[str, str]:
        """Add ``runnable`` (looked through) and its subtree; return its entry and exit ids."""
        step, notes, ancestors = self._look_through(runnable, node_id, ancestors)
        children = self._children(step, node_id, ancestors)
        layout: Layout = "leaf"
        if children:
            layout = "chain" if isinstance(step, RunnableSequence) else "fan"
        if node_id in self.seen:
            hint = " A composite's children() must give each child its own key."
            raise CompositionError(
                f"Two steps of the chain would both be {describe_node(node_id)}.{hint}",
                node_id=node_id,
            )
        self.seen.add(node_id)
        name = step.get_name()
        label = name if not notes else name + "\n" + " · ".join(notes)
        self.nodes.append(Node(node_id, step.kind, name, label, parent, key, layout, notes))
        if layout == "leaf":
            return node_id, node_id
        cluster_at = len(self.clusters)
        self.clusters.append(Cluster(node_id, step.kind, name, parent, ()))  # members below
        members: list[str] = [node_id] if layout == "fan" else []
        ends: list[tuple[str, str, str]] = []  # (key, entry, exit) per child
        for part, child in children:
            child_id = ids.join(node_id, part)
            child_key = ids.unescape_key(part)
            members.append(child_id)
            entry, exit_ = self.visit(child, child_id, child_key, node_id, ancestors)
            ends.append((child_key, entry, exit_))
        if layout == "chain":
            for (_, _, exit_), (_, entry, _) in itertools.pairwise(ends):
                self.edges.append(Edge(exit_, entry, "", "next"))
            first, last = ends[0][1], ends[-1][2]
        else:
            join = join_id(node_id)
            self.joins.append(Join(join, node_id))
            members.append(join)
            for child_key, entry, _ in ends:
                self.edges.append(Edge(node_id, entry, child_key, "branch"))
            for _, _, exit_ in ends:
                self.edges.append(Edge(exit_, join, "", "merge"))
            if isinstance(step, RunnableAssign):
                self.edges.append(Edge(node_id, join, "", "keep"))
            first, last = node_id, join
        self.clusters[cluster_at] = Cluster(node_id, step.kind, name, parent, tuple(members))
        return first, last

    @staticmethod
    def _look_through(
        runnable: Runnable[Any, Any], node_id: str, ancestors: frozenset[int]
    ) -> tuple[Runnable[Any, Any], tuple[str, ...], frozenset[int]]:
        """The step a chain of transparent wrappers stands for, and notes on the wrappers."""
        notes: list[str] = []
        while True:
            if id(runnable) in ancestors:
                raise CompositionError(
                    f"The {type(runnable).__name__} at {describe_node(node_id)} contains "
                    "itself; a chain's structure must be a tree, not a cycle.",
                    node_id=node_id,
                )
            ancestors = ancestors | {id(runnable)}
            if not runnable.transparent:
                return runnable, tuple(notes), ancestors
            inner = runnable.children()
            if len(inner) != 1 or inner[0][0] is not None:
                raise CompositionError(
                    f"The wrapper {type(runnable).__name__} at {describe_node(node_id)} is "
                    "transparent, so its children() must be exactly one (None, runnable) "
                    f"pair, but it gave {len(inner)} child(ren) with keys "
                    f"{[k for k, _ in inner]!r}.",
                    node_id=node_id,
                )
            note = wrapper_note(runnable)
            if note:
                notes.append(note)
            runnable = _checked(inner[0][1], node_id)

    @staticmethod
    def _children(
        step: Runnable[Any, Any], node_id: str, ancestors: frozenset[int]
    ) -> list[tuple[str, Runnable[Any, Any]]]:
        children: list[tuple[str, Runnable[Any, Any]]] = []
        for part, child in step.children():
            if part is None:
                raise CompositionError(
                    f"{type(step).__name__} at {describe_node(node_id)} gave a child with the "
                    "key None, which only a transparent wrapper may do (the child would share "
                    "its id). Give the child a key, or mark the class transparent.",
                    node_id=node_id,
                )
            children.append((part, _checked(child, ids.join(node_id, part))))
        return children


def _checked(child: Any, node_id: str) -> Runnable[Any, Any]:
    if isinstance(child, Runnable):
        return child
    reject_langchain(child, f"the graph at {describe_node(node_id)}")
    raise CompositionError(
        f"children() gave a {type(child).__name__} for {describe_node(node_id)}, "
        "but a graph is made of chainviz runnables.",
        node_id=node_id,
    )

"""Graphviz DOT text for a :class:`~chainviz.graph.model.Graph`.

No user text is ever a DOT identifier: nodes are ``n0, n1, …``, joins ``j0, …``,
clusters ``cluster_0, …``, edges ``e0, …`` (each also its ``id`` attribute, which
:mod:`chainviz.graph.svg` maps back to node ids). User text appears only inside
double-quoted ``label`` values, written by :func:`quote` so that the label shows
exactly the (cleaned) text: no DOT syntax, no label escape such as ``\\N``, no
entity, and no markup can come out of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from chainviz.graph import text
from chainviz.graph.kinds import JOIN_COLOR, cluster_style_of, css_class, slug, style_of
from chainviz.graph.model import Cluster, Edge, Graph, Node
from chainviz.graph.overlay import (
    CRITICAL_COLOR,
    NOT_RUN,
    NodeState,
    TraceLike,
    edge_is_critical,
    node_states,
)

__all__ = ["DotDocument", "Element", "Quoted", "make_dot", "quote", "to_dot"]

FONT = "Helvetica,Arial,sans-serif"


class Quoted(str):
    """A value already written as a DOT string by :func:`quote`."""

    __slots__ = ()


def quote(value: str) -> Quoted:
    """``value`` (already cleaned: no controls) as a DOT string that a label shows verbatim.

    A backslash is doubled (DOT keeps ``\\\\`` and the label reads it as one ``\\``),
    a quote is ``\\"``, ``&`` is ``&amp;`` (Graphviz decodes entities in labels) and a
    line break is the label escape ``\\n``.
    """
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;").replace("\n", "\\n")
    )
    return Quoted(f'"{escaped}"')


def label_text(value: str) -> str:
    """What a picture shows for ``value``: cleaned, at most a few shortened lines."""
    return "\n".join(text.lines(value))


@dataclass(frozen=True, slots=True)
class Element:
    """One drawn element, for mapping Graphviz's SVG back to the graph."""

    #: Graphviz's own class for it: "node", "cluster" or "edge" (a join is a node).
    base: str
    classes: tuple[str, ...]
    #: Hover text (shown by browsers from the SVG ``<title>``).
    title: str
    #: ``data-*`` attributes for the SVG element, e.g. ``(("data-node-id", "joke/0"),)``.
    data: tuple[tuple[str, str], ...]


@dataclass
class DotDocument:
    """DOT text plus what each DOT id stands for."""

    text: str
    elements: dict[str, Element] = field(default_factory=dict)


def to_dot(graph: Graph, trace: TraceLike | None = None) -> str:
    """DOT text for ``graph``; with ``trace``, coloured by how the run went."""
    return make_dot(graph, trace).text


def make_dot(graph: Graph, trace: TraceLike | None = None) -> DotDocument:
    states = node_states(graph, trace) if trace is not None else None
    return _Writer(graph, states).document()


def _value(value: str) -> str:
    # Our own constants (shapes, colours, ids, class names) hold no quote or backslash.
    return value if isinstance(value, Quoted) else f'"{value}"'


def _attrs(pairs: Mapping[str, str]) -> str:
    return "[" + ", ".join(f"{key}={_value(value)}" for key, value in pairs.items()) + "]"


class _Writer:
    def __init__(self, graph: Graph, states: Mapping[str, NodeState] | None) -> None:
        self.graph = graph
        self.states = states
        self.names: dict[str, str] = {}
        for index, node in enumerate(graph.nodes):
            self.names[node.id] = f"n{index}"
        for index, join in enumerate(graph.joins):
            self.names[join.id] = f"j{index}"
        self.clusters = {cluster.id: cluster for cluster in graph.clusters}
        self.cluster_names = {c.id: f"cluster_{i}" for i, c in enumerate(graph.clusters)}
        self.doc = DotDocument("")
        self.lines: list[str] = []

    def document(self) -> DotDocument:
        out = self.lines
        out.append("digraph chainviz {")
        out.append(
            f'  graph [rankdir="TB", fontname="{FONT}", fontsize="10", nodesep="0.25", '
            'ranksep="0.32", bgcolor="#ffffff", pad="0.12", newrank="true"];'
        )
        out.append(
            f'  node [fontname="{FONT}", fontsize="10", fontcolor="#212121", '
            'height="0.32", margin="0.14,0.05", penwidth="1.3"];'
        )
        out.append(
            f'  edge [fontname="{FONT}", fontsize="9", color="#78909c", fontcolor="#00838f", '
            'arrowsize="0.6", penwidth="1.1"];'
        )
        root = self.graph.root
        if root.id in self.clusters:
            self._cluster(self.clusters[root.id], "  ")
        else:
            self._node(root, "  ")
        for index, edge in enumerate(self.graph.edges):
            self._edge(index, edge)
        out.append("}")
        self.doc.text = "\n".join(out) + "\n"
        return self.doc

    # ------------------------------------------------------------------ elements

    def _state(self, node_id: str) -> NodeState | None:
        return self.states.get(node_id) if self.states is not None else None

    def _title(self, node: Node) -> str:
        where = f"id {node.id!r}" if node.id else "the whole chain"
        return f"{text.clean(node.name)} ({text.clean(node.kind)}, {text.clean(where)})"

    def _cluster(self, cluster: Cluster, indent: str) -> None:
        name = self.cluster_names[cluster.id]
        node = self.graph.node(cluster.id)
        style, fill, border = cluster_style_of(cluster.kind)
        state = self._state(cluster.id)
        classes = [css_class(cluster.kind)]
        attrs: dict[str, str] = {
            "id": name, "style": style, "fillcolor": fill, "color": border,
            "fontcolor": "#546e7a", "labeljust": "l", "fontsize": "9",
        }
        # A fan's own node (its fork) shows its name; a chain's cluster is its only mark.
        caption = "" if node.layout == "fan" else label_text(cluster.label)
        if state is not None:
            classes.extend(state.css_classes)
            if node.layout == "chain":
                caption = f"{caption}   {state.caption()}"
                attrs["color"] = state.look.border
            if state.critical:
                attrs["color"], attrs["penwidth"] = CRITICAL_COLOR, "2"
        attrs["label"] = quote(caption)
        attrs["class"] = " ".join(classes)
        data = [("data-cluster-id", cluster.id)]
        if node.layout == "chain":  # the cluster is this node's only element
            data += [("data-node-id", node.id), ("data-node-index", self.names[node.id][1:])]
        self.doc.elements[name] = Element("cluster", tuple(classes), self._title(node), tuple(data))
        self.lines.append(f"{indent}subgraph {name} {{")
        self.lines.append(f"{indent}  graph {_attrs(attrs)};")
        for member in cluster.members:
            if member in self.clusters and member != cluster.id:
                self._cluster(self.clusters[member], indent + "  ")
            elif member in self.graph:
                self._node(self.graph.node(member), indent + "  ")
            else:
                self._join(member, indent + "  ")
        self.lines.append(f"{indent}}}")

    def _node(self, node: Node, indent: str) -> None:
        name = self.names[node.id]
        look = style_of(node.kind)
        classes = [css_class(node.kind)]
        if node.layout == "fan":
            classes.append("cv-fork")
        label = label_text(node.label)
        attrs: dict[str, str] = {
            "id": name, "shape": look.shape, "style": look.style,
            "fillcolor": look.fill, "color": look.border,
        }
        state = self._state(node.id)
        if state is not None:
            classes.extend(state.css_classes)
            label = f"{label}\n{state.caption()}"
            attrs["fillcolor"], attrs["color"] = state.look.fill, state.look.border
            attrs["fontcolor"] = state.look.font
            if state.status == NOT_RUN and "dashed" not in look.style:
                attrs["style"] = look.style + ",dashed"
            if state.critical:
                attrs["color"], attrs["penwidth"] = CRITICAL_COLOR, "2.6"
        attrs["label"] = quote(label)
        attrs["class"] = " ".join(classes)
        data = (("data-node-id", node.id), ("data-node-index", name[1:]))
        self.doc.elements[name] = Element("node", tuple(classes), self._title(node), data)
        self.lines.append(f"{indent}{name} {_attrs(attrs)};")

    def _join(self, join_id: str, indent: str) -> None:
        name = self.names[join_id]
        fan = self.graph.node(self.graph.owner(join_id))
        classes = ("cv-join",)
        attrs = {
            "id": name, "shape": "point", "width": "0.09", "color": JOIN_COLOR,
            "label": quote(""), "class": "cv-join",
        }
        title = f"where the branches of {text.clean(fan.name)} meet"
        data = (("data-join-id", join_id), ("data-fan-id", fan.id))
        self.doc.elements[name] = Element("node", classes, title, data)
        self.lines.append(f"{indent}{name} {_attrs(attrs)};")

    def _edge(self, index: int, edge: Edge) -> None:
        name = f"e{index}"
        classes = [f"cv-edge-{slug(edge.kind)}"]
        attrs: dict[str, str] = {"id": name}
        if edge.kind == "branch":
            key = edge.label if edge.label else '""'
            attrs["label"] = quote(" " + text.shorten(text.clean(key).replace("\n", " ")) + " ")
        elif edge.kind == "merge":
            attrs["arrowhead"] = "none"
        elif edge.kind == "keep":
            attrs.update({"style": "dashed", "color": "#b0bec5", "arrowhead": "none"})
            attrs["label"] = quote(" input ")
            attrs["fontcolor"] = "#90a4ae"
        if self.states is not None and edge_is_critical(self.graph, edge, self.states):
            classes.append("cv-critical")
            attrs["color"], attrs["penwidth"] = CRITICAL_COLOR, "2.2"
        attrs["class"] = " ".join(classes)
        source, target = self.names[edge.source], self.names[edge.target]
        title = f"{text.clean(edge.source) or '(root)'} → {text.clean(edge.target) or '(root)'}"
        data = (("data-source-id", edge.source), ("data-target-id", edge.target))
        self.doc.elements[name] = Element("edge", tuple(classes), title, data)
        self.lines.append(f"  {source} -> {target} {_attrs(attrs)};")

"""Mermaid ``flowchart`` text for a :class:`~chainviz.graph.model.Graph`.

Node ids are ``n0, n1, …`` (joins ``j0, …``, clusters ``c0, …``); user text appears
only inside double-quoted labels, where every character other than letters, digits,
spaces and a little plain punctuation is written as a Mermaid entity code
(``#60;`` for ``<``), so no label can end its string, open markup or form a link.
"""

from __future__ import annotations

from chainviz.graph import text
from chainviz.graph.kinds import KindStyle, slug, style_of
from chainviz.graph.model import Cluster, Edge, Graph, Node

__all__ = ["draw_mermaid", "mermaid_text"]

_PLAIN_PUNCTUATION = frozenset(" _.,:;!?/+=*@()-")
_ARROWS = {"next": "-->", "branch": "-->", "merge": "---", "keep": "-.-"}


def mermaid_text(value: str) -> str:
    """``value`` as the inside of a quoted Mermaid label: cleaned, entity-coded, ``<br>``."""
    out: list[str] = []
    for char in text.clean(value):
        if char == "\n":
            out.append("<br>")
        elif (char.isalnum() and char.isprintable()) or char in _PLAIN_PUNCTUATION:
            out.append(char)
        else:
            out.append(f"#{ord(char)};")
    return "".join(out)


def _class_name(kind: str) -> str:
    return "cv_kind_" + slug(kind).replace("-", "_")


def draw_mermaid(graph: Graph) -> str:
    """Mermaid text: a top-down flowchart with a subgraph per composite."""
    names = {node.id: f"n{i}" for i, node in enumerate(graph.nodes)}
    names.update({join.id: f"j{i}" for i, join in enumerate(graph.joins)})
    clusters = {cluster.id: (f"c{i}", cluster) for i, cluster in enumerate(graph.clusters)}
    out = ["flowchart TD"]

    def node_line(node: Node, indent: str) -> str:
        opening, closing = style_of(node.kind).mermaid
        label = mermaid_text("\n".join(text.lines(node.label)))
        return f'{indent}{names[node.id]}{opening}{label}{closing}'

    def cluster_lines(name: str, cluster: Cluster, indent: str) -> None:
        node = graph.node(cluster.id)
        title = mermaid_text(text.shorten(text.clean(cluster.label).replace("\n", " ")))
        out.append(f'{indent}subgraph {name}["{title if node.layout == "chain" else " "}"]')
        out.append(f"{indent}  direction TB")
        for member in cluster.members:
            if member in clusters and member != cluster.id:
                cluster_lines(*clusters[member], indent + "  ")
            elif member in graph:
                out.append(node_line(graph.node(member), indent + "  "))
            else:
                out.append(f'{indent}  {names[member]}(("#8226;"))')
        out.append(f"{indent}end")

    if graph.root.id in clusters:
        cluster_lines(*clusters[graph.root.id], "  ")
    else:
        out.append(node_line(graph.root, "  "))
    out.extend(_edge_line(edge, names) for edge in graph.edges)
    looks: dict[str, KindStyle] = {}
    for node in graph.nodes:
        if node.layout != "chain":  # a chain is a subgraph, not a node
            looks.setdefault(_class_name(node.kind), style_of(node.kind))
    for name, look in sorted(looks.items()):
        dash = ",stroke-dasharray:4 3" if "dashed" in look.style else ""
        out.append(f"  classDef {name} fill:{look.fill},stroke:{look.border},color:#212121{dash}")
    for node in graph.nodes:
        if node.layout != "chain":
            out.append(f"  class {names[node.id]} {_class_name(node.kind)}")
    return "\n".join(out) + "\n"


def _edge_line(edge: Edge, names: dict[str, str]) -> str:
    arrow = _ARROWS[edge.kind]
    label = ""
    if edge.kind == "branch":
        label = f'|"{mermaid_text(text.shorten(text.clean(edge.label or chr(34) * 2)))}"|'
    elif edge.kind == "keep":
        label = '|"input"|'
    return f"  {names[edge.source]} {arrow}{label} {names[edge.target]}"

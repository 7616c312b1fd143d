"""SVG pictures whose elements say which node they draw.

Graphviz writes each node, cluster and edge as ``<g id="…" class="…">`` with the
``id`` and ``class`` given in the DOT. :func:`to_svg` rewrites exactly those
opening tags (found by the DOT ids it chose itself, never by user text, which
Graphviz has escaped) so that:

* every graph node has exactly one element carrying ``data-node-id="<id>"`` and
  ``data-node-index`` (its index in ``graph.nodes``): a leaf or a fan's fork is a
  ``<g class="node cv-kind-…">``, a sequence is its ``<g class="cluster cv-kind-sequence">``;
* every cluster carries ``data-cluster-id``, every join point ``data-join-id`` and
  ``data-fan-id``, every edge ``data-source-id`` and ``data-target-id``;
* classes are ``node``/``cluster``/``edge`` plus ``cv-kind-<kind>``, ``cv-fork``,
  ``cv-join``, ``cv-edge-<kind>`` and, with a trace, ``cv-status-<status>`` and
  ``cv-critical`` — so a view can restyle nodes in place without a new layout;
* each element's ``<title>`` (the browser's hover text) names the step.

Element ids get a prefix derived from the DOT text, so two different pictures in
one page do not share ids. A node id holding a character that XML 1.0 cannot carry
at all (a control character other than tab and line breaks) has U+FFFD in its
place in ``data-node-id``; ``data-node-index`` is exact for every node.
"""

from __future__ import annotations

import hashlib
import html
import re

from chainviz.errors import RenderError
from chainviz.graph.dot import DotDocument, Element, make_dot
from chainviz.graph.engines import render_svg
from chainviz.graph.model import Graph
from chainviz.graph.overlay import TraceLike

__all__ = ["finish_svg", "to_svg", "xml_attr"]

_GROUP = re.compile(r'<g id="([^"<>]*)" class="([^"<>]*)">(\s*<title>[^<]*</title>)?')
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_attr(value: str) -> str:
    """``value`` escaped for a double-quoted XML attribute, tabs and line breaks kept."""
    value = _XML_FORBIDDEN.sub("\ufffd", value)
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def to_svg(graph: Graph, trace: TraceLike | None = None, *, engine: str | None = None) -> str:
    """The graph as SVG text (an ``<svg>`` element); with ``trace``, the finished run on it:
    each node's status and latency in its label and colour, the critical path in bold.

    ``engine`` is ``"wasm"``, ``"system"`` or ``"auto"`` (see
    :mod:`chainviz.graph.engines`).
    """
    document = make_dot(graph, trace)
    return finish_svg(render_svg(document.text, engine=engine), document)


def finish_svg(raw: str, document: DotDocument) -> str:
    """Graphviz's SVG with data attributes, classes and titles for each element."""
    start = raw.find("<svg")
    if start < 0:
        raise RenderError("Graphviz returned no <svg> element; the output was not SVG.")
    prefix = "cv" + hashlib.blake2s(document.text.encode("utf-8"), digest_size=4).hexdigest()
    seen: set[str] = set()

    def rewrite(match: re.Match[str]) -> str:
        dot_id = html.unescape(match.group(1))
        element = document.elements.get(dot_id)
        if element is None:
            return match.group(0)
        seen.add(dot_id)
        return _tag(prefix, dot_id, element) + f"\n<title>{xml_attr(element.title)}</title>"

    svg = _GROUP.sub(rewrite, raw[start:])
    missing = document.elements.keys() - seen
    if missing:
        raise RenderError(
            f"Graphviz's SVG lacks {len(missing)} of the graph's elements "
            f"(e.g. {sorted(missing)[0]}); this Graphviz may be too old to keep DOT ids."
        )
    return svg


def _tag(prefix: str, dot_id: str, element: Element) -> str:
    attrs = [("id", f"{prefix}-{dot_id}"), ("class", " ".join((element.base, *element.classes)))]
    return "<g " + " ".join(f'{k}="{xml_attr(v)}"' for k, v in (*attrs, *element.data)) + ">"

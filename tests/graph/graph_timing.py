"""How long a 200-node graph takes to become SVG, renderer warm.

Run: ``PYTHONPATH=. python tests/graph/graph_timing.py`` (prints a table; the test
suite runs it once through ``test_graph_timing.py`` without asserting times).
"""

from __future__ import annotations

import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from graph_steps import FakeModel, FakeParser, FakePrompt, FakeRetriever

from chainviz.core.base import Runnable
from chainviz.core.lambdas import RunnableLambda
from chainviz.core.parallel import RunnableParallel
from chainviz.core.passthrough import RunnablePassthrough
from chainviz.graph import build_graph, engines


def wide_parallel(branches: int = 40) -> Runnable[Any, Any]:
    """A parallel of ``branches`` four-step chains: 1 + 5 × branches nodes."""
    return RunnableParallel(
        {
            f"branch_{i}": FakePrompt() | FakeModel() | FakeParser() | RunnableLambda(str)
            for i in range(branches)
        }
    )


def long_sequence(steps: int = 200) -> Runnable[Any, Any]:
    """``steps`` prompt/model steps one after another: 1 + steps nodes."""
    step: Runnable[Any, Any] = FakePrompt()
    for i in range(steps - 1):
        step = step | (FakeModel() if i % 2 else FakePrompt())
    return step


def nested_rag(copies: int = 20) -> Runnable[Any, Any]:
    """``copies`` RAG chains (10 nodes each) side by side, each with an assign."""
    def rag() -> Runnable[Any, Any]:
        return (
            {"context": FakeRetriever(), "question": RunnablePassthrough()}
            | FakePrompt()
            | FakeModel()
            | RunnablePassthrough.assign(parsed=FakeParser(), size=len)
        )

    return RunnableParallel({f"rag_{i}": rag() for i in range(copies)})


def median_ms(action: Callable[[], object], repeat: int, clock: Callable[[], float]) -> float:
    times = []
    for _ in range(repeat):
        start = clock()
        action()
        times.append(clock() - start)
    return statistics.median(times) * 1000


def measure(repeat: int = 5) -> list[dict[str, Any]]:
    """Per chain: node count, and median milliseconds to build, write DOT, and render
    (wall clock, and this process's CPU time, which a busy machine disturbs less)."""
    wall, cpu = time.perf_counter, time.process_time
    chosen = ["wasm"] + (["system"] if shutil.which("dot") else [])
    for engine in chosen:
        engines.warm_up(engine)
    rows = []
    for name, make in (("wide parallel", wide_parallel), ("long sequence", long_sequence),
                       ("nested rag", nested_rag)):
        chain = make()
        graph = build_graph(chain)
        row: dict[str, Any] = {
            "chain": name,
            "nodes": len(graph.nodes),
            "clusters": len(graph.clusters),
            "build_ms": median_ms(lambda c=chain: build_graph(c), repeat, wall),
            "dot_ms": median_ms(graph.to_dot, repeat, wall),
        }
        for engine in chosen:
            render = lambda e=engine, g=graph: g.to_svg(engine=e)  # noqa: E731
            row[f"svg_{engine}_ms"] = median_ms(render, repeat, wall)
            if engine == "wasm":  # in-process: its CPU time is the render's own cost
                row["svg_wasm_cpu_ms"] = median_ms(render, repeat, cpu)
        row["ascii_ms"] = median_ms(graph.draw_ascii, repeat, wall)
        rows.append(row)
    return rows


def main() -> None:
    import os

    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    start = time.perf_counter()
    engines.warm_up("wasm")
    print(f"first wasm render (compiles the module): {time.perf_counter() - start:.2f} s")
    for row in measure():
        print("  ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in row.items()))


if __name__ == "__main__":
    main()

"""Benchmarks: chainviz and langchain-core on the same workloads, in the same run.

    python benchmarks/run.py [--quick] [--only ROW ...] [--json PATH] [--compare EARLIER_JSON]

Repetitions alternate between the contenders so a noisy neighbour hits both alike,
and each starts after a full garbage collection so neither pays for the other's garbage.
For each row it prints medians of wall time and CPU time, and the ratio
langchain-core / chainviz (above 1: chainviz is faster). Where the limit is Python
itself, a bare baseline from the same run (plain calls, bare threads, bare
``asyncio.gather``) is the yardstick. Results are also written as JSON.

langchain-core is installed for benchmarking only: pip install 'chainviz[bench]'.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

Timer = Callable[[], None]


@dataclass
class Row:
    name: str
    unit: str  # what one "op" is, e.g. "per step"
    per: int  # divide a repetition's time by this to get the per-op figure
    medians: dict[str, float] = field(default_factory=dict)  # contender -> seconds per op
    cpu: dict[str, float] = field(default_factory=dict)
    target: str = ""
    note: str = ""


def measure(
    contenders: dict[str, Timer], repeat: int, per: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Run each contender ``repeat`` times, alternating; medians of wall and CPU per op."""
    wall: dict[str, list[float]] = {k: [] for k in contenders}
    cpu: dict[str, list[float]] = {k: [] for k in contenders}
    for fn in contenders.values():  # warm-up
        fn()
    for _ in range(repeat):
        for name, fn in contenders.items():
            # Each repetition starts from the same collector state: otherwise one
            # contender inherits the other's garbage, and a full collection (tens of ms
            # with langchain-core loaded) lands on whichever crosses the threshold.
            # The collector stays on while timing, as it is for users.
            gc.collect()
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            t1, c1 = time.perf_counter(), time.process_time()
            wall[name].append((t1 - t0) / per)
            cpu[name].append((c1 - c0) / per)
    return (
        {k: statistics.median(v) for k, v in wall.items()},
        {k: statistics.median(v) for k, v in cpu.items()},
    )


def fmt(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.3g} s"


# ------------------------------------------------------------------------ workloads


def lc() -> Any:
    import langchain_core.runnables as lcr

    return lcr


def row_import(repeat: int) -> Row:
    code = {
        "chainviz": "from chainviz import RunnableLambda, RunnableParallel, RunnableSequence",
        "langchain": (
            "from langchain_core.runnables import RunnableLambda, RunnableParallel, "
            "RunnableSequence"
        ),
        "python -c pass": "pass",
    }
    rss: dict[str, list[float]] = {k: [] for k in code}
    wall: dict[str, list[float]] = {k: [] for k in code}
    probe = (
        "import time, resource; t=time.perf_counter(); {stmt}; "
        "print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    for _ in range(repeat):
        for name, stmt in code.items():
            out = subprocess.run(
                [sys.executable, "-c", probe.format(stmt=stmt)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            wall[name].append(float(out[0]))
            rss[name].append(float(out[1]) * 1024)
    row = Row("import core classes (fresh process)", "per import", 1, target="≤ 1/5 of langchain")
    row.medians = {k: statistics.median(v) for k, v in wall.items()}
    base = statistics.median(rss["python -c pass"])
    mem = {
        k: (statistics.median(v) - base) / 2**20 for k, v in rss.items() if k != "python -c pass"
    }
    row.note = "memory over `python -c pass`: " + ", ".join(
        f"{k} {v:.1f} MB" for k, v in mem.items()
    )
    return row


def row_invoke(steps: int, repeat: int) -> Row:
    import chainviz

    inner = 200 if steps < 100 else 20
    cv_chain = (
        chainviz.RunnableSequence(*[chainviz.RunnableLambda(lambda x: x) for _ in range(steps)])
        if steps > 1
        else chainviz.RunnableLambda(lambda x: x)
    )
    lcr = lc()
    lc_chain = (
        lcr.RunnableSequence(*[lcr.RunnableLambda(lambda x: x) for _ in range(steps)])
        if steps > 1
        else lcr.RunnableLambda(lambda x: x)
    )
    fns = [lambda x: x for _ in range(steps)]

    def bare() -> None:
        for _ in range(inner):
            x = 1
            for f in fns:
                x = f(x)

    row = Row(
        f"sync invoke, {steps} trivial step(s)",
        "per step",
        inner * steps,
        target="≤ 1/20 of langchain",
    )
    row.medians, row.cpu = measure(
        {
            "chainviz": lambda: [cv_chain.invoke(1) for _ in range(inner)] and None,
            "langchain": lambda: [lc_chain.invoke(1) for _ in range(inner)] and None,
            "bare calls": bare,
        },
        repeat,
        inner * steps,
    )
    return row


def row_ainvoke(repeat: int) -> Row:
    import chainviz

    steps, inner = 10, 100

    async def step(x: int) -> int:
        return x

    cv_chain = chainviz.RunnableSequence(*[chainviz.RunnableLambda(step) for _ in range(steps)])
    lcr = lc()
    lc_chain = lcr.RunnableSequence(*[lcr.RunnableLambda(step) for _ in range(steps)])

    async def many(chain: Any) -> None:
        for _ in range(inner):
            await chain.ainvoke(1)

    async def bare() -> None:
        for _ in range(inner):
            x = 1
            for _ in range(steps):
                x = await step(x)

    row = Row(
        "async ainvoke, 10 async steps", "per step", inner * steps, target="≤ 1/20 of langchain"
    )
    row.medians, row.cpu = measure(
        {
            "chainviz": lambda: asyncio.run(many(cv_chain)),
            "langchain": lambda: asyncio.run(many(lc_chain)),
            "bare await": lambda: asyncio.run(bare()),
        },
        repeat,
        inner * steps,
    )
    return row


def row_sync_parallel(n: int, repeat: int) -> Row:
    import chainviz

    def block(x: Any) -> Any:
        time.sleep(0.1)
        return x

    cv = chainviz.RunnableParallel({f"b{i}": chainviz.RunnableLambda(block) for i in range(n)})
    lcr = lc()
    lcp = lcr.RunnableParallel({f"b{i}": lcr.RunnableLambda(block) for i in range(n)})

    def bare() -> None:
        threads = [threading.Thread(target=block, args=(1,)) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    contenders: dict[str, Timer] = {"chainviz": lambda: cv.invoke(1) and None, "bare threads": bare}
    if n <= 128:
        contenders["langchain"] = lambda: lcp.invoke(1) and None
    return fanout_row(
        f"sync parallel, {n} × 0.1 s blocking",
        "efficiency ≥ 0.8 (≤128); ≥ 0.9 × bare threads at 512",
        contenders,
        repeat,
        "bare threads",
    )


def fanout_row(
    name: str, target: str, contenders: dict[str, Timer], repeat: int, yardstick: str
) -> Row:
    """A fan-out of 0.1 s branches: efficiency (0.1 s / wall) and speed against bare Python."""
    row = Row(name, "per run", 1, target=target)
    row.medians, row.cpu = measure(contenders, repeat, 1)
    m = row.medians
    row.note = (
        f"efficiency {0.1 / m['chainviz']:.2f}; "
        f"{m[yardstick] / m['chainviz']:.2f}× the speed of {yardstick}"
    )
    return row


def row_async_parallel(n: int, repeat: int) -> Row:
    import chainviz

    async def wait(x: Any) -> Any:
        await asyncio.sleep(0.1)
        return x

    cv = chainviz.RunnableParallel({f"b{i}": chainviz.RunnableLambda(wait) for i in range(n)})
    lcr = lc()
    lcp = lcr.RunnableParallel({f"b{i}": lcr.RunnableLambda(wait) for i in range(n)})

    async def bare() -> None:
        await asyncio.gather(*(wait(1) for _ in range(n)))

    contenders: dict[str, Timer] = {
        "chainviz": lambda: asyncio.run(cv.ainvoke(1)) and None,
        "bare gather": lambda: asyncio.run(bare()),
    }
    if n <= 1000:
        contenders["langchain"] = lambda: asyncio.run(lcp.ainvoke(1)) and None
    return fanout_row(
        f"async parallel, {n} × 0.1 s awaiting",
        "efficiency ≥ 0.8 (≤1,000); ≥ 0.9 × gather at 10,000",
        contenders,
        repeat,
        "bare gather",
    )


def row_zero_work_parallel(repeat: int) -> Row:
    import chainviz

    n = 32
    cv = chainviz.RunnableParallel(
        {f"b{i}": chainviz.RunnableLambda(lambda x: x) for i in range(n)}
    )
    lcr = lc()
    lcp = lcr.RunnableParallel({f"b{i}": lcr.RunnableLambda(lambda x: x) for i in range(n)})
    row = Row("zero-work parallel, 32 branches", "per branch", n, target="≤ 1/10 of langchain")
    row.medians, row.cpu = measure(
        {"chainviz": lambda: cv.invoke(1) and None, "langchain": lambda: lcp.invoke(1) and None},
        repeat,
        n,
    )
    return row


def row_batch(repeat: int) -> Row:
    import chainviz

    n = 1000
    cv = chainviz.RunnableSequence(*[chainviz.RunnableLambda(lambda x: x) for _ in range(3)])
    lcr = lc()
    lcs = lcr.RunnableSequence(*[lcr.RunnableLambda(lambda x: x) for _ in range(3)])
    inputs = list(range(n))
    row = Row(
        "batch of 1,000 through 3 trivial steps",
        "per item",
        n,
        target="≤ 1.1× invoke loop; ≥ 10× langchain throughput",
    )
    row.medians, row.cpu = measure(
        {
            "chainviz": lambda: cv.batch(inputs) and None,
            "chainviz invoke loop": lambda: [cv.invoke(i) for i in inputs] and None,
            "langchain": lambda: lcs.batch(inputs) and None,
        },
        repeat,
        n,
    )
    m = row.medians
    row.note = (
        f"batch / invoke loop: {m['chainviz'] / m['chainviz invoke loop']:.2f}×; "
        f"throughput {m['langchain'] / m['chainviz']:.0f}× langchain's"
    )
    return row


def row_stream(repeat: int) -> Row:
    import chainviz

    n = 1000

    def produce(_: Any) -> Any:
        yield from range(n)

    def relay(chunks: Any) -> Any:
        yield from chunks

    cv = (
        chainviz.RunnableGenerator(produce)
        | chainviz.RunnableGenerator(relay)
        | chainviz.RunnableGenerator(relay)
    )
    lcr = lc()
    lcs = (
        lcr.RunnableGenerator(produce) | lcr.RunnableGenerator(relay) | lcr.RunnableGenerator(relay)
    )
    row = Row("stream 1,000 tokens through 3 streaming steps", "per token", n, target="≤ 2 µs sync")
    row.medians, row.cpu = measure(
        {
            "chainviz": lambda: sum(1 for _ in cv.stream(None)) and None,
            "langchain": lambda: sum(1 for _ in lcs.stream(None)) and None,
        },
        repeat,
        n,
    )
    return row


def row_astream(repeat: int) -> Row:
    import chainviz

    n = 1000

    async def produce(_: Any) -> Any:
        for i in range(n):
            yield i

    async def relay(chunks: Any) -> Any:
        async for chunk in chunks:
            yield chunk

    cv = (
        chainviz.RunnableGenerator(produce)
        | chainviz.RunnableGenerator(relay)
        | chainviz.RunnableGenerator(relay)
    )
    lcr = lc()
    lcs = (
        lcr.RunnableGenerator(produce) | lcr.RunnableGenerator(relay) | lcr.RunnableGenerator(relay)
    )

    async def drain(chain: Any) -> None:
        async for _ in chain.astream(None):
            pass

    row = Row(
        "astream 1,000 tokens through 3 streaming steps", "per token", n, target="≤ 5 µs async"
    )
    row.medians, row.cpu = measure(
        {
            "chainviz": lambda: asyncio.run(drain(cv)),
            "langchain": lambda: asyncio.run(drain(lcs)),
        },
        repeat,
        n,
    )
    return row


def row_recorder(repeat: int) -> Row:
    import chainviz
    from chainviz.trace import Recorder

    steps, inner = 10, 200
    chain = chainviz.RunnableSequence(*[chainviz.RunnableLambda(lambda x: x) for _ in range(steps)])

    def bare() -> None:
        for _ in range(inner):
            chain.invoke(1)

    def recorded() -> None:
        for _ in range(inner):
            chain.invoke(1, {"callbacks": [Recorder()]})

    row = Row(
        "a recorder attached vs none, 10-step chain",
        "per step",
        inner * steps,
        target="≤ 3 µs added per step",
    )
    row.medians, row.cpu = measure(
        {"chainviz + Recorder": recorded, "chainviz, no sink": bare}, repeat, inner * steps
    )
    added = row.cpu["chainviz + Recorder"] - row.cpu["chainviz, no sink"]
    row.note = f"added per step (CPU): {fmt(added)}"
    row.medians = {"chainviz": row.medians.pop("chainviz + Recorder"), **row.medians}
    row.cpu = {"chainviz": row.cpu.pop("chainviz + Recorder"), **row.cpu}
    return row


def row_live_view(repeat: int) -> Row:
    import json

    import comm
    from comm.base_comm import BaseComm

    import chainviz
    from chainviz.core.base import Runnable
    from chainviz.widgets import ChainView

    class SerialisingComm(BaseComm):  # type: ignore[misc]
        """What a front end costs the kernel: serialising every message, not sending it."""

        def publish_msg(self, msg_type: str, data: Any = None, **keys: Any) -> None:
            json.dumps(data, default=str)

    comm.create_comm = lambda *a, **k: SerialisingComm(*a, **k)

    class Sleep(Runnable[Any, Any]):
        kind = "function"

        def _call(self, input: Any, step: Any) -> Any:
            step.sleep(0.1)
            return "x"

    chain = chainviz.RunnableParallel({f"b{i}": Sleep() for i in range(32)})
    view = ChainView(chain)
    row = Row("live view attached, 32 branches × 0.1 s", "per run", 1, target="≤ 1.05× no view")
    row.medians, row.cpu = measure(
        {
            "chainviz": lambda: view.run(None) and None,
            "no view": lambda: chain.invoke(None) and None,
        },
        max(repeat, 15),
        1,
    )
    row.note = f"view / no view: {row.medians['chainviz'] / row.medians['no view']:.3f}×"
    return row


def row_graph_svg(repeat: int) -> Row:
    import chainviz
    from chainviz.graph import engines

    class Model(chainviz.RunnableLambda):
        kind = "model"

    chain = chainviz.RunnableParallel(
        {
            f"branch_{i}": chainviz.RunnableLambda(str)
            | Model(str)
            | chainviz.RunnableLambda(len)
            | chainviz.RunnableLambda(abs)
            for i in range(40)
        }
    )
    graph = chain.get_graph()
    engines.warm_up()
    row = Row(
        f"graph to SVG, {len(graph.nodes)} nodes, renderer warm", "per render", 1, target="≤ 200 ms"
    )
    row.medians, row.cpu = measure({"chainviz": lambda: graph.to_svg() and None}, repeat, 1)
    row.note = "langchain-core has no offline SVG renderer to compare with"
    return row


def row_batch_blocking(repeat: int) -> Row:
    """1,000 items that each block 10 ms, run side by side.

    The ideal (every item at once: 10 ms) is out of Python's reach: waking a thousand
    blocked threads on two cores takes tens of milliseconds whatever runs them. So the
    yardstick is the fastest bare-Python way measured here, a warm
    ``ThreadPoolExecutor`` with a worker per item (faster than a thread per item, and
    than a thousand pre-started threads woken by one ``Event``), and the efficiency is
    its wall time over chainviz's. The ideal-based figure is printed too.
    """
    from concurrent.futures import ThreadPoolExecutor

    import chainviz

    n = 1000

    def block(x: Any) -> Any:
        time.sleep(0.01)
        return x

    chain = chainviz.RunnableLambda(block)
    lcr = lc()
    lc_chain = lcr.RunnableLambda(block)
    inputs = list(range(n))
    pool = ThreadPoolExecutor(max_workers=n)

    def bare_threads() -> None:
        threads = [threading.Thread(target=block, args=(i,)) for i in inputs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    row = Row(
        "batch of 1,000 through a 10 ms blocking step",
        "per batch",
        1,
        target="efficiency ≥ 0.8 (warm bare pool's wall / chainviz's)",
    )
    try:
        row.medians, row.cpu = measure(
            {
                "chainviz": lambda: chain.batch(inputs) and None,
                "bare pool, warm": lambda: list(pool.map(block, inputs)) and None,
                "bare threads": bare_threads,
                "langchain": lambda: lc_chain.batch(inputs) and None,
            },
            repeat,
            1,
        )
    finally:
        pool.shutdown()
    wall = row.medians["chainviz"]
    row.note = (
        f"efficiency {row.medians['bare pool, warm'] / wall:.2f} against the warm bare pool; "
        f"{0.01 / wall:.2f} against the ideal 10 ms; {n * 0.01 / wall:.0f}× a loop"
    )
    return row


def row_max_concurrency(repeat: int) -> Row:
    import chainviz

    n, k = 12, 4

    def block(x: Any) -> Any:
        time.sleep(0.1)
        return x

    async def wait(x: Any) -> Any:
        await asyncio.sleep(0.1)
        return x

    flat = chainviz.RunnableParallel({f"b{i}": chainviz.RunnableLambda(block) for i in range(n)})
    nested = chainviz.RunnableParallel(
        {
            f"g{g}": chainviz.RunnableParallel(
                {f"b{i}": chainviz.RunnableLambda(block) for i in range(n // 3)}
            )
            for g in range(3)
        }
    )
    aflat = chainviz.RunnableParallel({f"b{i}": chainviz.RunnableLambda(wait) for i in range(n)})
    limit = {"max_concurrency": k}
    row = Row(
        f"max_concurrency={k}, {n} × 0.1 s",
        "per run",
        1,
        target=f"the limit holds: wall ≈ ceil({n}/{k}) × 0.1 s = {((n + k - 1) // k) * 0.1:.1f} s",
    )
    row.medians, row.cpu = measure(
        {
            "chainviz": lambda: flat.invoke(1, limit) and None,
            "chainviz nested": lambda: nested.invoke(1, limit) and None,
            "chainviz async": lambda: asyncio.run(aflat.ainvoke(1, limit)) and None,
        },
        repeat,
        1,
    )
    return row


def rows(quick: bool) -> dict[str, Callable[[], Row]]:
    r = 3 if quick else 7
    return {
        "import": lambda: row_import(r),
        "invoke1": lambda: row_invoke(1, r),
        "invoke10": lambda: row_invoke(10, r),
        "invoke100": lambda: row_invoke(100, r),
        "ainvoke": lambda: row_ainvoke(r),
        "parallel8": lambda: row_sync_parallel(8, r),
        "parallel128": lambda: row_sync_parallel(128, r),
        "parallel512": lambda: row_sync_parallel(512, 3),
        "aparallel128": lambda: row_async_parallel(128, r),
        "aparallel1000": lambda: row_async_parallel(1000, 3),
        "aparallel10000": lambda: row_async_parallel(10_000, 3),
        "zero_work": lambda: row_zero_work_parallel(r),
        "batch": lambda: row_batch(r),
        "batch_blocking": lambda: row_batch_blocking(3),
        "max_concurrency": lambda: row_max_concurrency(3),
        "stream": lambda: row_stream(r),
        "astream": lambda: row_astream(r),
        "recorder": lambda: row_recorder(r),
        "live_view": lambda: row_live_view(r),
        "graph_svg": lambda: row_graph_svg(r),
    }


def print_row(row: Row) -> None:
    cv = row.medians.get("chainviz")
    print(f"\n{row.name}  ({row.unit}; target: {row.target})")
    for name, value in row.medians.items():
        ratio = f"  ratio {value / cv:6.1f}×" if cv and name != "chainviz" else ""
        cpu = f"  cpu {fmt(row.cpu[name])}" if name in row.cpu else ""
        print(f"  {name:<22} {fmt(value):>10}{cpu}{ratio}")
    if row.note:
        print(f"  {row.note}")


def load_earlier(path: str | None) -> dict[str, dict[str, Any]]:
    """Rows of an earlier run's JSON, by row key, to compare with."""
    if not path:
        return {}
    earlier = json.loads(Path(path).read_text())
    return {row.get("key", row["name"]): row for row in earlier["rows"]}


def print_comparison(key: str, row: Row, earlier: dict[str, dict[str, Any]]) -> None:
    before = earlier.get(key, {}).get("medians", {}).get("chainviz")
    now = row.medians.get("chainviz")
    if before and now:
        speedup = before / now
        change = "faster" if speedup > 1.02 else "slower" if speedup < 0.98 else "about the same"
        print(f"  vs earlier run: {fmt(before)} -> {fmt(now)} ({speedup:.2f}×, {change})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--only", nargs="*", choices=list(rows(False)), help="run only these rows")
    parser.add_argument("--json", default="benchmarks/results.json", help="where to write results")
    parser.add_argument(
        "--compare", metavar="EARLIER_JSON", help="print each row's change against an earlier run"
    )
    args = parser.parse_args()
    try:
        import langchain_core
    except ImportError:
        sys.exit("langchain-core is needed for the comparison: pip install 'chainviz[bench]'")
    earlier = load_earlier(args.compare)
    print(
        f"python {platform.python_version()}, langchain-core {langchain_core.__version__}, "
        f"{os.cpu_count()} cpus. Ratios: other / chainviz (above 1: chainviz faster)."
    )
    results = []
    for key, make in rows(args.quick).items():
        if args.only and key not in args.only:
            continue
        row = make()
        print_row(row)
        print_comparison(key, row, earlier)
        results.append({"key": key, **asdict(row)})
    Path(args.json).write_text(json.dumps({"time": time.time(), "rows": results}, indent=2))
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()

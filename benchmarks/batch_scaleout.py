"""Scale-out benchmark: one batch of items that each wait 10 ms, here and on Dask.

    python benchmarks/batch_scaleout.py [--items 10000] [--latency 0.01] [--repeat 5]
                                        [--workers 2] [--threads 2] [--quick] [--json PATH]

The same ``chain.batch(inputs, executor=...)`` runs 10,000 items of 10 ms simulated
latency (a blocking wait, as a model call is) through:

* the local default (``executor=None``: threads join as items block);
* a ``ThreadPoolExecutor`` of 16 threads (chunks of items on each);
* a Dask ``LocalCluster`` on 127.0.0.1 (``--workers`` processes × ``--threads``);
* the local default and Dask again, watched by a ``BatchView`` (no browser: the widget's
  messages go nowhere, so this is the cost of folding the records and announcements).

Repetitions alternate between the contenders. For each it prints medians of the wall
time, the throughput (items/s), the wall time per item, the CPU time per item summed
over every process (the waits cost no CPU, so this is the framework's overhead per
item), split into this process (which also hosts the Dask scheduler) and the Dask
workers, and the
per-item overhead measured where the items ran (median of an item's whole-chain
duration minus the 10 ms wait, from the ``BatchView``'s records). Results are written
as JSON (``benchmarks/batch_scaleout.json``) in the shape ``benchmarks/run.py`` uses.

Needs the ``dask`` and ``widgets`` extras: ``pip install 'chainviz[dask,widgets]'``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import functools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import Row, fmt  # benchmarks/run.py: the same rows and units


def wait(seconds: float, item: Any) -> Any:
    time.sleep(seconds)  # a blocking call, as a model's HTTP request is
    return item


class Contender:
    """One way to run the batch; ``cpu_elsewhere()`` is CPU seconds spent in other
    processes so far (the Dask workers)."""

    def __init__(self, name: str, run: Callable[[], Any],
                 cpu_elsewhere: Callable[[], float] = lambda: 0.0) -> None:
        self.name = name
        self.run = run
        self.cpu_elsewhere = cpu_elsewhere
        self.wall: list[float] = []
        self.cpu_here: list[float] = []
        self.cpu_workers: list[float] = []
        self.overhead: list[float] = []

    def once(self, keep: bool) -> None:
        other0, cpu0, t0 = self.cpu_elsewhere(), time.process_time(), time.perf_counter()
        outcome = self.run()
        t1, cpu1, other1 = time.perf_counter(), time.process_time(), self.cpu_elsewhere()
        if keep:
            self.wall.append(t1 - t0)
            self.cpu_here.append(cpu1 - cpu0)
            self.cpu_workers.append(other1 - other0)
            if isinstance(outcome, float):
                self.overhead.append(outcome)


def contenders(items: int, latency: float, client: Any) -> list[Contender]:
    import chainviz
    from chainviz.widgets import BatchView

    chain = chainviz.RunnableLambda(functools.partial(wait, latency), name="simulated call")
    inputs = list(range(items))

    def check(outputs: list[Any]) -> None:
        if outputs != inputs:
            raise SystemExit("a batch lost, duplicated or reordered items")

    def watched(executor: Any) -> float:
        view = BatchView(chain, inputs, executor=executor)
        check(view.run())
        summary = view.summary
        whole = summary.steps[0].p50 if summary is not None and summary.steps else None
        return (whole or 0.0) - latency  # per-item overhead where the items ran

    pool = cf.ThreadPoolExecutor(16)

    def dask_cpu() -> float:
        return float(sum(client.run(time.process_time).values()))

    return [
        Contender("local default", lambda: check(chain.batch(inputs))),
        Contender("thread pool ×16", lambda: check(chain.batch(inputs, executor=pool))),
        Contender("dask", lambda: check(chain.batch(inputs, executor=client)), dask_cpu),
        Contender("local + BatchView", lambda: watched(None)),
        Contender("dask + BatchView", lambda: watched(client), dask_cpu),
    ]


def report(runners: list[Contender], items: int, latency: float) -> tuple[Row, dict[str, Any]]:
    row = Row(f"batch of {items:,} items × {fmt(latency)} wait", "per item", items,
              target="CPU/item (every process) is the framework's overhead; waits cost none")
    extra: dict[str, Any] = {"throughput": {}, "cpu_here": {}, "cpu_workers": {},
                             "overhead_where_run": {}}
    print(f"\n{'':<20}{'wall':>9}{'items/s':>9}{'wall/item':>11}{'CPU/item':>10}"
          f"{'(here':>9}{'workers)':>10}{'item overhead':>15}")
    for runner in runners:
        wall = statistics.median(runner.wall)
        here = statistics.median(runner.cpu_here) / items
        workers = statistics.median(runner.cpu_workers) / items
        cpu = statistics.median(h + w for h, w in zip(runner.cpu_here, runner.cpu_workers))
        row.medians[runner.name] = wall / items
        row.cpu[runner.name] = cpu / items
        extra["throughput"][runner.name] = items / wall
        extra["cpu_here"][runner.name] = here
        extra["cpu_workers"][runner.name] = workers
        overhead = statistics.median(runner.overhead) if runner.overhead else None
        extra["overhead_where_run"][runner.name] = overhead
        print(f"{runner.name:<20}{fmt(wall):>9}{items / wall:>9,.0f}{fmt(wall / items):>11}"
              f"{fmt(cpu / items):>10}{fmt(here):>9}{fmt(workers) if workers else '–':>10}"
              f"{fmt(overhead) if overhead is not None else '–':>15}")
    row.note = ", ".join(f"{k} {v:,.0f} items/s" for k, v in extra["throughput"].items())
    return row, extra


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.01, help="seconds each item waits")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per Dask worker")
    parser.add_argument("--quick", action="store_true", help="2,000 items, 2 repetitions")
    parser.add_argument("--json", default="benchmarks/batch_scaleout.json")
    args = parser.parse_args()
    if args.quick:
        args.items, args.repeat = 2_000, 2
    try:
        import distributed
    except ImportError:
        sys.exit("Dask is needed: pip install 'chainviz[dask,widgets]'")

    cluster = distributed.LocalCluster(
        n_workers=args.workers, threads_per_worker=args.threads, host="127.0.0.1",
        dashboard_address=None, processes=True,
    )
    client = distributed.Client(cluster)
    try:
        print(f"python {platform.python_version()}, dask {distributed.__version__}, "
              f"{os.cpu_count()} cpus; {args.items:,} items × {args.latency * 1000:g} ms, "
              f"Dask LocalCluster {args.workers} workers × {args.threads} threads; "
              f"medians of {args.repeat}")
        runners = contenders(args.items, args.latency, client)
        for runner in runners:  # warm-up: threads, worker imports, the first scatter
            runner.once(keep=False)
        for _ in range(args.repeat):
            for runner in runners:
                runner.once(keep=True)
        row, extra = report(runners, args.items, args.latency)
    finally:
        client.close()
        cluster.close()
    result = {"time": time.time(), "items": args.items, "latency_s": args.latency,
              "dask": {"workers": args.workers, "threads": args.threads},
              "rows": [asdict(row)], **extra}
    Path(args.json).write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()

"""What a Recorder adds per step: a sync chain of identity lambdas, three ways.

    python benchmarks/trace_recorder.py [--steps 50] [--rounds 30]

The same chain runs with no sink, with a no-op sink (the core's own cost of
building and delivering events) and with a fresh ``Recorder`` per run. Rounds
alternate between the three so a noisy neighbour hits all alike; the medians of
wall and CPU time per step are printed. The target for the recorder is at most
3 µs per step over the no-op sink. ``on_event`` alone is timed at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chainviz import RunnableLambda
from chainviz.core import events as ev
from chainviz.trace import Recorder


class NoopSink:
    def on_event(self, event: ev.RunEvent) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--runs", type=int, default=40, help="invokes per round")
    args = parser.parse_args()

    chain: Any = RunnableLambda(lambda x: x)
    for _ in range(args.steps - 1):
        chain = chain | RunnableLambda(lambda x: x)

    configs: dict[str, Callable[[], Any]] = {
        "no sink": lambda: None,
        "no-op sink": lambda: {"callbacks": [NoopSink()]},
        "Recorder": lambda: {"callbacks": [Recorder()]},
    }
    wall: dict[str, list[float]] = {name: [] for name in configs}
    cpu: dict[str, list[float]] = {name: [] for name in configs}
    per = args.runs * args.steps
    for make in configs.values():  # warm-up
        chain.invoke(1, make())
    for _ in range(args.rounds):
        for name, make in configs.items():
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(args.runs):
                chain.invoke(1, make())
            t1, c1 = time.perf_counter(), time.process_time()
            wall[name].append((t1 - t0) / per * 1e6)
            cpu[name].append((c1 - c0) / per * 1e6)

    median = {name: statistics.median(values) for name, values in wall.items()}
    median_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    print(f"{args.steps}-step sync chain, {args.rounds} rounds x {args.runs} runs, medians:")
    for name in configs:
        print(f"  {name:10s} {median[name]:6.2f} us/step wall  {median_cpu[name]:6.2f} us/step CPU")
    print(
        "Recorder over a no-op sink: "
        f"{median['Recorder'] - median['no-op sink']:+.2f} us/step wall, "
        f"{median_cpu['Recorder'] - median_cpu['no-op sink']:+.2f} us/step CPU (target <= 3)"
    )
    print(
        f"Recorder over no sink:      {median['Recorder'] - median['no sink']:+.2f} us/step wall "
        "(includes the core building and delivering the events)"
    )

    recorder = Recorder()
    event = ev.EndEvent(1, 2, 1, "0", "function", "f", None)
    n = 200_000
    on_event = min(timeit.repeat(lambda: recorder.on_event(event), number=n, repeat=5)) / n
    noop = NoopSink()
    bare = min(timeit.repeat(lambda: noop.on_event(event), number=n, repeat=5)) / n
    print(
        f"on_event alone: {on_event * 1e9:.0f} ns/event (a no-op method: {bare * 1e9:.0f} ns); "
        "two events per step"
    )


if __name__ == "__main__":
    main()

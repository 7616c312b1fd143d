"""Recording runs and asking where the time went.

* :class:`Recorder` — a sink for ``config={"callbacks": [recorder]}``; it keeps every
  run as a :class:`Trace` (``recorder.last``, ``recorder.traces``).
* :class:`Trace` — per step: start, end, status, error, tokens, output. Shows as a
  waterfall in Jupyter; saves to JSON; exports to Chrome trace and OTLP/JSON.
* :mod:`chainviz.trace.stats` — wall time, branch latencies, speedup, critical path.
* :func:`timeit` / :func:`atimeit` — ``%timeit``-style timings of chains, compared.

Standard library only.
"""

from __future__ import annotations

from chainviz.trace.model import ClockAnchor, ErrorInfo, NodeRun, Status, Trace
from chainviz.trace.recorder import Recorder
from chainviz.trace.stats import (
    NodeSummary,
    TraceStats,
    branch_latencies,
    branch_sum,
    branches,
    critical_path,
    node_latencies,
    node_summaries,
    speedup,
    summarize,
    wall_time,
)
from chainviz.trace.timefmt import format_time
from chainviz.trace.timing import TimeitComparison, TimeitResult, Timings, atimeit, timeit

__all__ = [
    "ClockAnchor",
    "ErrorInfo",
    "NodeRun",
    "NodeSummary",
    "Recorder",
    "Status",
    "TimeitComparison",
    "TimeitResult",
    "Timings",
    "Trace",
    "TraceStats",
    "atimeit",
    "branch_latencies",
    "branch_sum",
    "branches",
    "critical_path",
    "format_time",
    "node_latencies",
    "node_summaries",
    "speedup",
    "summarize",
    "timeit",
    "wall_time",
]

"""Statistics of one trace, as pure functions: where did the time go?

* **wall time**: how long the whole run took (its root step);
* **branches**: the children of the top-level parallel step(s) (for a plain
  sequence, each step), and each one's latency;
* **branch sum** and **speedup** (sum / wall): a parallel of N equal branches costs
  about the *max* of them, so its speedup is about N; a sequence's is about 1;
* **critical path**: the node ids whose chain of steps bounded the wall time — from
  the root, every step of a sequence and, in a parallel, the branch that ended last.

A node that ran several times (a retry, a fallback) spans from its first start to
its last end. Latencies are None while a step is still running.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypedDict

from chainviz.trace.model import FANOUT_KINDS, NodeRun, Status, Trace

__all__ = [
    "NodeSummary",
    "TraceStats",
    "branch_latencies",
    "branch_sum",
    "branches",
    "critical_path",
    "node_latencies",
    "node_summaries",
    "speedup",
    "summarize",
    "wall_time",
]


class NodeSummary(TypedDict):
    """What a graph needs to colour one node."""

    status: Status
    latency_s: float | None
    tokens: int


def _span_s(runs: Sequence[NodeRun]) -> float | None:
    if any(run.end_ns is None for run in runs):
        return None
    start = min(run.start_ns for run in runs)
    end = max(run.end_ns for run in runs if run.end_ns is not None)
    return (end - start) / 1e9


def _status(runs: Sequence[NodeRun]) -> Status:
    if any(run.status == "running" for run in runs):
        return "running"
    return runs[-1].status


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def wall_time(trace: Trace) -> float | None:
    """Seconds the whole run took (None while it runs)."""
    return trace.root.latency_s


def node_latencies(trace: Trace) -> dict[str, float | None]:
    """Seconds per node id, first start to last end."""
    return {node_id: _span_s(trace.runs_of(node_id)) for node_id in trace.node_ids()}


def node_summaries(trace: Trace) -> dict[str, NodeSummary]:
    """``{node_id: {"status", "latency_s", "tokens"}}`` for every node that ran."""
    summaries: dict[str, NodeSummary] = {}
    for node_id in trace.node_ids():
        runs = trace.runs_of(node_id)
        summaries[node_id] = {
            "status": _status(runs),
            "latency_s": _span_s(runs),
            "tokens": sum(run.tokens for run in runs),
        }
    return summaries


def _top_fanouts(trace: Trace, run: NodeRun) -> list[NodeRun]:
    if run.kind in FANOUT_KINDS:
        return [run]
    if run.kind == "sequence":
        return [f for child in trace.children(run) for f in _top_fanouts(trace, child)]
    return []


def branches(trace: Trace) -> list[str]:
    """Node ids of the branches: children of the top-level parallel(s), else the steps of
    a top-level sequence, else the root itself."""
    root = trace.root
    fanouts = _top_fanouts(trace, root)
    if fanouts:
        return _unique(child.node_id for f in fanouts for child in trace.children(f))
    if root.kind == "sequence" and trace.children(root):
        return _unique(child.node_id for child in trace.children(root))
    return [root.node_id]


def branch_latencies(trace: Trace) -> dict[str, float | None]:
    """Seconds per branch (see :func:`branches`)."""
    return {node_id: _span_s(trace.runs_of(node_id)) for node_id in branches(trace)}


def branch_sum(trace: Trace) -> float | None:
    """The branches' latencies added up: what the run would cost if nothing overlapped."""
    latencies = branch_latencies(trace).values()
    if any(latency is None for latency in latencies):
        return None
    return math.fsum(latency for latency in latencies if latency is not None)


def speedup(trace: Trace) -> float | None:
    """Branch sum / wall time: about N for N equal parallel branches, about 1 for a sequence."""
    total, wall = branch_sum(trace), wall_time(trace)
    if total is None or not wall:
        return None
    return total / wall


def _ended_last(runs: Sequence[NodeRun]) -> NodeRun:
    # A parallel that failed cancels its siblings after the failure: the branches that
    # were not cancelled are the ones that decided when it ended.
    candidates = [run for run in runs if run.status != "cancelled"] or list(runs)
    return max(candidates, key=lambda run: math.inf if run.end_ns is None else run.end_ns)


def critical_path(trace: Trace) -> list[str]:
    """Node ids that bounded the wall time, root first, each once."""
    path: list[str] = []
    pending = [trace.root]
    while pending:
        run = pending.pop()
        path.append(run.node_id)
        children = trace.children(run)
        if not children:
            continue
        if run.kind in FANOUT_KINDS:
            pending.append(_ended_last(children))
        else:
            pending.extend(reversed(children))
    return _unique(path)


@dataclass(frozen=True, slots=True)
class TraceStats:
    """Every statistic of a trace at once."""

    wall_s: float | None
    branches: dict[str, float | None]
    branch_sum_s: float | None
    speedup: float | None
    critical_path: list[str]


def summarize(trace: Trace) -> TraceStats:
    """All of this module's statistics for ``trace``."""
    return TraceStats(
        wall_s=wall_time(trace),
        branches=branch_latencies(trace),
        branch_sum_s=branch_sum(trace),
        speedup=speedup(trace),
        critical_path=critical_path(trace),
    )

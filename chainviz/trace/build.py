"""Turning a recorder's flat list of events into traces, one per run.

Events arrive interleaved when several runs share a recorder. A start event whose
parent run is unknown begins a new trace; every other event joins the trace of
its run. Events of a run whose start was not seen are ignored.

One repair: on the streaming path the core gives a sequence's steps no parent run
id (their steps are made before the sequence's own start event). A start event
with no parent whose node id is not a root's (``"0"``, ``"joke/1"``) is therefore
attached to the newest still-open run of its parent node id (``""``, ``"joke"``),
which node ids name unambiguously. Events with correct parents never need it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from chainviz.core import events as ev
from chainviz.trace.model import ClockAnchor, ErrorInfo, NodeRun, Status, Trace
from chainviz.trace.usage import MODEL_KINDS, model_usage

__all__ = ["build_traces", "derive_trace_id"]


class _Open:
    """A run being assembled (mutable; frozen into a :class:`NodeRun` at the end)."""

    __slots__ = (
        "end_ns", "error", "exception", "input", "kind", "name", "node_id", "output",
        "parent_run_id", "reason", "run_id", "start_ns", "status", "tokens",
    )

    def __init__(self, event: ev.StartEvent) -> None:
        self.run_id = event.run_id
        self.parent_run_id = event.parent_run_id
        self.node_id = event.node_id
        self.kind = event.kind
        self.name = event.name
        self.start_ns = event.time_ns
        self.input = event.input
        self.end_ns: int | None = None
        self.status: Status = "running"
        self.output: Any = None
        self.error: ErrorInfo | None = None
        self.exception: BaseException | None = None
        self.reason: str | None = None
        self.tokens = 0

    def apply(self, event: ev.RunEvent) -> None:
        if self.status != "running":
            return  # one terminal event per run; anything after it is ignored
        if isinstance(event, ev.TokenEvent):
            self.tokens += 1
            return
        self.end_ns = event.time_ns
        if isinstance(event, ev.EndEvent):
            self.status, self.output = "done", event.output
        elif isinstance(event, ev.ErrorEvent):
            self.status = "error"
            if event.error is not None:
                self.exception = event.error
                self.error = ErrorInfo.of(event.error)
        elif isinstance(event, ev.CancelEvent):
            self.status, self.reason = "cancelled", event.reason
        else:
            self.end_ns = None

    def freeze(self) -> NodeRun:
        usage = model_usage(self.output) if self.kind in MODEL_KINDS else {}
        tokens = self.tokens or int(usage.get("output_tokens", 0))
        return NodeRun(
            run_id=self.run_id,
            parent_run_id=self.parent_run_id,
            node_id=self.node_id,
            kind=self.kind,
            name=self.name,
            start_ns=self.start_ns,
            end_ns=self.end_ns,
            status=self.status,
            input=self.input,
            output=self.output,
            error=self.error,
            reason=self.reason,
            tokens=tokens,
            usage=usage,
            exception=self.exception,
        )


def derive_trace_id(anchor: ClockAnchor, root: NodeRun) -> str:
    """A stable 32-hex-digit id for a run (the same for every rebuild of its snapshot)."""
    seed = f"chainviz:{anchor.wall_ns}:{anchor.monotonic_ns}:{root.run_id}:{root.start_ns}"
    return hashlib.blake2b(seed.encode(), digest_size=16).hexdigest()


class _Group:
    """The runs of one trace, keyed by run id, and its newest timestamp."""

    __slots__ = ("newest", "root_id", "runs")

    def __init__(self, root_id: int) -> None:
        self.root_id = root_id
        self.runs: dict[int, _Open] = {}
        self.newest = 0


def _open_parent(open_runs: dict[str, list[_Open]], node_id: str) -> _Open | None:
    parent_id = node_id.rpartition("/")[0]
    candidates = open_runs.get(parent_id)
    return candidates[-1] if candidates else None


def build_traces(
    events: Iterable[ev.RunEvent], anchor_for: Callable[[int], ClockAnchor]
) -> list[Trace]:
    """Group ``events`` into traces (in order of each run's first event).

    ``anchor_for(root_run_id)`` gives the clock anchor of the run with that root.
    """
    groups: list[_Group] = []
    group_of: dict[int, _Group] = {}
    open_runs: dict[str, list[_Open]] = {}
    for event in events:
        if isinstance(event, ev.StartEvent):
            run = _Open(event)
            parent = event.parent_run_id
            group = group_of.get(parent) if parent is not None else None
            if parent is None and event.node_id:
                adopter = _open_parent(open_runs, event.node_id)
                if adopter is not None:
                    run.parent_run_id = adopter.run_id
                    group = group_of[adopter.run_id]
            if group is None:
                group = _Group(event.run_id)
                groups.append(group)
            group.runs[event.run_id] = run
            group_of[event.run_id] = group
            open_runs.setdefault(event.node_id, []).append(run)
        else:
            group = group_of.get(event.run_id)
            if group is None:
                continue
            run = group.runs[event.run_id]
            was_open = run.status == "running"
            run.apply(event)
            if was_open and run.status != "running":
                open_runs[run.node_id].remove(run)
        group.newest = max(group.newest, event.time_ns)
    traces: list[Trace] = []
    for group in groups:
        frozen = tuple(run.freeze() for run in group.runs.values())
        anchor = anchor_for(group.root_id)
        traces.append(Trace(frozen, anchor, derive_trace_id(anchor, frozen[0]), group.newest))
    return traces

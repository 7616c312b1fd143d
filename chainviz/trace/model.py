"""The values a recording is made of: one step's run, its error, and a whole trace.

A :class:`Trace` is a frozen snapshot of one ``invoke``: every step's run
(:class:`NodeRun`), linked by run ids into the tree the core executed. It knows
how to look itself up (by node id, by parent); statistics, exports and pictures
live in their own modules and are reached through thin methods here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from chainviz.trace.stats import NodeSummary

__all__ = ["ClockAnchor", "ErrorInfo", "NodeRun", "Status", "Trace"]

Status = Literal["done", "error", "cancelled", "running"]

#: Kinds whose children run at the same time (one branch each).
FANOUT_KINDS = frozenset({"parallel", "assign"})


@dataclass(frozen=True, slots=True)
class ClockAnchor:
    """A wall-clock time and a monotonic time read together, to place monotonic stamps in
    real time: ``wall = wall_ns + (monotonic - monotonic_ns)``."""

    wall_ns: int
    monotonic_ns: int

    def to_wall_ns(self, monotonic_ns: int) -> int:
        return self.wall_ns + (monotonic_ns - self.monotonic_ns)


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """What a failed step raised, as text: ``type`` (qualified name) and ``message``."""

    type: str
    message: str

    @classmethod
    def of(cls, error: BaseException) -> ErrorInfo:
        kind = type(error)
        module = kind.__module__
        name = kind.__qualname__
        if module not in ("builtins", "__main__"):
            name = f"{module}.{name}"
        return cls(name, str(error))


@dataclass(frozen=True, slots=True)
class NodeRun:
    """One run of one step: when it started and ended, how it ended, what it produced.

    ``status`` is ``"done"``, ``"error"``, ``"cancelled"`` or ``"running"``;
    ``end_ns`` is None while running. ``output`` is the step's output object itself
    (text after :meth:`Trace.load`). ``exception`` is the live exception, and None
    after loading; ``error`` is its text form. ``usage`` holds what a model's output
    said about itself (``model_name``, ``input_tokens``, ``output_tokens``).
    """

    run_id: int
    parent_run_id: int | None
    node_id: str
    kind: str
    name: str
    start_ns: int
    end_ns: int | None = None
    status: Status = "running"
    input: Any = field(default=None, repr=False)
    output: Any = field(default=None, repr=False)
    error: ErrorInfo | None = None
    reason: str | None = None
    tokens: int = 0
    usage: Mapping[str, Any] = field(default_factory=dict, repr=False)
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    @property
    def duration_ns(self) -> int | None:
        return None if self.end_ns is None else self.end_ns - self.start_ns

    @property
    def latency_s(self) -> float | None:
        duration = self.duration_ns
        return None if duration is None else duration / 1e9


@dataclass(frozen=True, eq=False)
class Trace:
    """One recorded run: its step runs in start order, and the clock anchor to place them.

    ``snapshot_ns`` is the newest timestamp seen when the snapshot was taken; running
    steps are drawn up to it. ``trace_id`` (32 hex digits) names the run in exports.
    """

    runs: tuple[NodeRun, ...]
    anchor: ClockAnchor
    trace_id: str
    snapshot_ns: int
    _children: dict[int | None, tuple[NodeRun, ...]] = field(
        init=False, repr=False, compare=False
    )
    _by_node: dict[str, tuple[NodeRun, ...]] = field(init=False, repr=False, compare=False)
    _by_id: dict[int, NodeRun] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.runs:
            raise ValueError("A Trace needs at least one run; record one with a Recorder.")
        known = {run.run_id for run in self.runs}
        children: dict[int | None, list[NodeRun]] = {}
        by_node: dict[str, list[NodeRun]] = {}
        for run in self.runs:
            parent = run.parent_run_id if run.parent_run_id in known else None
            children.setdefault(parent, []).append(run)
            by_node.setdefault(run.node_id, []).append(run)
        object.__setattr__(self, "_children", {k: tuple(v) for k, v in children.items()})
        object.__setattr__(self, "_by_node", {k: tuple(v) for k, v in by_node.items()})
        object.__setattr__(self, "_by_id", {run.run_id: run for run in self.runs})

    # ------------------------------------------------------------------ structure

    @property
    def root(self) -> NodeRun:
        """The outermost step's run (the first run with no recorded parent)."""
        return self._children[None][0]

    def children(self, run: NodeRun) -> tuple[NodeRun, ...]:
        """The runs started by ``run``, in start order."""
        return self._children.get(run.run_id, ())

    def node_ids(self) -> list[str]:
        """Every node id that ran, in order of first start."""
        return list(self._by_node)

    def runs_of(self, node_id: str) -> tuple[NodeRun, ...]:
        """Every run of one node (several when a retry or fallback ran it again)."""
        return self._by_node.get(node_id, ())

    def node(self, node_id: str) -> NodeRun:
        """The latest run of a node: ``trace.node("joke").output``."""
        runs = self._by_node.get(node_id)
        if not runs:
            known = ", ".join(repr(n) for n in self._by_node) or "none"
            raise KeyError(
                f"No step with node id {node_id!r} ran in this trace; the node ids are: {known}."
            )
        return runs[-1]

    def depth(self, run: NodeRun) -> int:
        """How many recorded ancestors ``run`` has (the root has none)."""
        depth = 0
        parent = self.parent(run)
        while parent is not None:
            depth += 1
            parent = self.parent(parent)
        return depth

    def parent(self, run: NodeRun) -> NodeRun | None:
        """The run that started ``run``, if it was recorded."""
        if run.parent_run_id is None:
            return None
        return self._by_id.get(run.parent_run_id)

    @property
    def status(self) -> Status:
        return self.root.status

    @property
    def start_ns(self) -> int:
        return self.root.start_ns

    @property
    def end_ns(self) -> int | None:
        return self.root.end_ns

    @property
    def output(self) -> Any:
        return self.root.output

    # ------------------------------------------------------------- the graph layer's API

    def node_summaries(self) -> dict[str, NodeSummary]:
        """``{node_id: {"status", "latency_s", "tokens"}}`` for colouring a graph."""
        from chainviz.trace.stats import node_summaries

        return node_summaries(self)

    def critical_path(self) -> list[str]:
        """The node ids whose chain of steps bounded the wall time, root first."""
        from chainviz.trace.stats import critical_path

        return critical_path(self)

    # --------------------------------------------------------------------- storage

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (non-JSON outputs as text, key-like strings scrubbed)."""
        from chainviz.trace.store import trace_to_dict

        return trace_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trace:
        from chainviz.trace.store import trace_from_dict

        return trace_from_dict(data)

    def save(self, path: str | Path) -> None:
        """Write the trace as JSON, to compare runs across sessions."""
        from chainviz.trace.store import save

        save(self, path)

    @classmethod
    def load(cls, path: str | Path) -> Trace:
        """Read a trace written by :meth:`save` (plain JSON; nothing is executed)."""
        from chainviz.trace.store import load

        return load(path)

    # ---------------------------------------------------------------------- exports

    def to_chrome_trace(self) -> dict[str, Any]:
        """Chrome trace event format (open in Perfetto or chrome://tracing)."""
        from chainviz.trace.chrome import to_chrome_trace

        return to_chrome_trace(self)

    def to_otlp_json(self) -> dict[str, Any]:
        """An OTLP/JSON ``ExportTraceServiceRequest`` with one span per step run."""
        from chainviz.trace.otlp import to_otlp_json

        return to_otlp_json(self)

    # ---------------------------------------------------------------------- display

    def to_svg(self) -> str:
        """The run as a waterfall: one bar per step on a shared time axis."""
        from chainviz.trace.waterfall import waterfall_svg

        return waterfall_svg(self)

    def to_text(self) -> str:
        """The run as a compact text table."""
        from chainviz.trace.waterfall import waterfall_text

        return waterfall_text(self)

    def _repr_svg_(self) -> str:
        return self.to_svg()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"image/svg+xml": self.to_svg(), "text/plain": self.to_text()}

    def __repr__(self) -> str:
        root = self.root
        duration = root.latency_s
        took = "running" if duration is None else f"{duration * 1e3:.1f} ms"
        return (
            f"<Trace {root.name} ({root.kind}) {root.status}, {took}, "
            f"{len(self._by_node)} nodes, {len(self.runs)} runs>"
        )

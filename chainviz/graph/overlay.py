"""A finished run drawn on its graph: each node's status and latency, the critical path.

``to_svg(trace=...)`` and ``to_dot(trace=...)`` accept any object with two methods
(:class:`TraceLike`; :class:`chainviz.trace.Trace` is one)::

    trace.node_summaries() -> {node_id: {"status": str, "latency_s": float | None}}
    trace.critical_path()  -> [node_id, ...]

``status`` is ``"done"``, ``"error"``, ``"cancelled"`` or ``"running"``; a node
missing from the summaries did not run. ``latency_s`` is seconds, or None while
unknown. Extra keys are ignored, and so are ids the graph does not have. The
critical path is the steps that bounded the wall time; their enclosing composites
count as on it too, and an edge is on it when both of its ends are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from chainviz.errors import ConfigError
from chainviz.graph.kinds import slug
from chainviz.graph.model import Edge, Graph

__all__ = [
    "NodeState",
    "StatusLook",
    "TraceLike",
    "edge_is_critical",
    "format_latency",
    "node_states",
]


@runtime_checkable
class TraceLike(Protocol):
    """What a picture needs from a run (see the module docstring)."""

    def node_summaries(self) -> Mapping[str, Mapping[str, Any]]: ...

    def critical_path(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class StatusLook:
    glyph: str
    fill: str
    border: str
    font: str = "#212121"


NOT_RUN = "not run"
STATUS_LOOKS: dict[str, StatusLook] = {
    "done": StatusLook("✓", "#e8f5e9", "#2e7d32"),
    "error": StatusLook("✗", "#ffebee", "#c62828"),
    "cancelled": StatusLook("⊘", "#fff3e0", "#ef6c00"),
    "running": StatusLook("…", "#e3f2fd", "#1565c0"),
    NOT_RUN: StatusLook("–", "#f5f5f5", "#bdbdbd", "#9e9e9e"),
}
UNKNOWN_LOOK = StatusLook("?", "#f5f5f5", "#757575")
CRITICAL_COLOR = "#d84315"


@dataclass(frozen=True, slots=True)
class NodeState:
    """One node as a run left it."""

    status: str
    latency_s: float | None
    critical: bool

    @property
    def look(self) -> StatusLook:
        return STATUS_LOOKS.get(self.status, UNKNOWN_LOOK)

    @property
    def css_classes(self) -> tuple[str, ...]:
        classes = (f"cv-status-{slug(self.status)}",)
        return (*classes, "cv-critical") if self.critical else classes

    def caption(self, *, plain: bool = False) -> str:
        """The line added under a node's label: ``✓ 120 ms``, ``✗ error · 80 ms``;
        ``plain``: ASCII only, ``done 120 ms``."""
        latency = [format_latency(self.latency_s)] if self.latency_s is not None else []
        if plain:
            return " ".join([self.status, *latency])
        words = [*([] if self.status == "done" else [self.status]), *latency]
        return f"{self.look.glyph} {' · '.join(words)}".rstrip()


def format_latency(seconds: float) -> str:
    """``0.42 ms``, ``120 ms``, ``1.23 s``, ``83 s``."""
    if seconds < 0.001:
        return f"{seconds * 1000:.2f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10:
        return f"{seconds:.2f} s"
    return f"{seconds:.0f} s"


def _normal_status(value: Any, node_id: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(
            f"node_summaries()[{node_id!r}]['status'] must be a string such as 'done', "
            f"but a {type(value).__name__} was given.",
            node_id=node_id,
        )
    status = value.strip().lower().replace("_", " ").replace("-", " ")
    return NOT_RUN if status in ("not run", "notrun", "skipped", "pending") else status


def _latency(value: Any, node_id: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(
            f"node_summaries()[{node_id!r}]['latency_s'] must be seconds (a float) or None, "
            f"but a {type(value).__name__} was given.",
            node_id=node_id,
        )
    return float(value) if value == value and value >= 0 else None  # NaN or negative: unknown


def node_states(graph: Graph, trace: TraceLike) -> dict[str, NodeState]:
    """The state of every node of ``graph`` after the run ``trace`` recorded."""
    for method in ("node_summaries", "critical_path"):
        if not callable(getattr(trace, method, None)):
            raise ConfigError(
                f"A trace to draw needs a {method}() method, but the {type(trace).__name__} "
                "given has none. Pass a chainviz.trace Trace, or see "
                "chainviz.graph.overlay for the two methods it needs."
            )
    summaries = trace.node_summaries()
    critical = _with_ancestors(graph, trace.critical_path())
    states: dict[str, NodeState] = {}
    for node in graph.nodes:
        summary = summaries.get(node.id)
        if summary is None:
            states[node.id] = NodeState(NOT_RUN, None, node.id in critical)
            continue
        states[node.id] = NodeState(
            _normal_status(summary.get("status"), node.id),
            _latency(summary.get("latency_s"), node.id),
            node.id in critical,
        )
    return states


def _with_ancestors(graph: Graph, path: Sequence[str]) -> set[str]:
    on_path: set[str] = set()
    for node_id in path:
        while node_id in graph and node_id not in on_path:
            on_path.add(node_id)
            parent = graph.node(node_id).parent
            if parent is None:
                break
            node_id = parent
    return on_path


def edge_is_critical(graph: Graph, edge: Edge, states: Mapping[str, NodeState]) -> bool:
    """True when both ends of ``edge`` are on the critical path."""
    source = states.get(graph.owner(edge.source))
    target = states.get(graph.owner(edge.target))
    return bool(source and target and source.critical and target.critical)

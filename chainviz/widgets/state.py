"""The live state of a run, folded from its events: pure, no widget, no kernel.

:class:`LiveState` takes run events one at a time (:meth:`LiveState.apply`) and
keeps, per node id: its status (``idle``, ``running``, ``done``, ``error``,
``cancelled``), when it started and ended, the text of the tokens it streamed, a
preview of its output and the text of its error. :meth:`LiveState.snapshot`
turns that into the JSON-ready dict a view draws.

The bars of the view are **lanes** (:func:`plan_lanes`): the branches of the
top-level parallel step(s), and the steps of a top-level sequence, so parallel
branches run side by side and a sequence's steps add up. A lane covers its node
and every node below it. After a run, the summary gives the wall time, the sum
of the lanes' times and the speedup (sum / wall): about N for N equal parallel
branches, about 1 for a sequence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from chainviz.core import events as ev
from chainviz.errors import failed_node_id

if TYPE_CHECKING:
    from chainviz.graph import Graph
    from chainviz.trace import Trace

__all__ = [
    "GLYPHS",
    "STATUSES",
    "Lane",
    "LiveState",
    "Status",
    "Summary",
    "format_seconds",
    "lanes_of_graph",
    "lanes_of_trace",
    "plan_lanes",
    "preview",
]

Status = Literal["idle", "running", "done", "error", "cancelled"]
STATUSES: tuple[Status, ...] = ("idle", "running", "done", "error", "cancelled")

#: Kinds whose children run at the same time (one lane each).
FANOUT_KINDS = frozenset({"parallel", "assign"})
#: How much streamed text a lane keeps for the view (the newest characters).
TEXT_LIMIT = 1200
#: How long an output preview may be.
PREVIEW_LIMIT = 1200


@dataclass(frozen=True, slots=True)
class Lane:
    """One bar of the view: a node id and the label it is shown with."""

    id: str
    label: str
    kind: str

    def holds(self, node_id: str) -> bool:
        """True if ``node_id`` is this lane's node or a node below it."""
        return not self.id or node_id == self.id or node_id.startswith(self.id + "/")

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "label": self.label, "kind": self.kind}


def plan_lanes(
    root: str,
    kind_of: Callable[[str], str],
    children_of: Callable[[str], Sequence[str]],
    label_of: Callable[[str], str],
) -> tuple[Lane, ...]:
    """The lanes of a structure given by three lookups (node id → kind, children, label).

    A fan-out (parallel, assign) gives one lane per branch; a sequence gives its
    steps' lanes in order (a fan-out step expands to its branches); anything else,
    including the root when it is a single step, is one lane.
    """

    def expand(node_id: str, top: bool) -> list[str]:
        kind, children = kind_of(node_id), children_of(node_id)
        if children and kind in FANOUT_KINDS:
            return list(children)
        if children and kind == "sequence" and top:
            return [lane for child in children for lane in expand(child, True)]
        return [node_id]

    return tuple(Lane(i, label_of(i), kind_of(i)) for i in dict.fromkeys(expand(root, True)))


def lanes_of_graph(graph: Graph) -> tuple[Lane, ...]:
    """The lanes of a chain's graph (known before it runs, so idle bars can be drawn)."""

    def kind_of(node_id: str) -> str:
        node = graph.node(node_id)
        if node.layout == "fan":
            return node.kind if node.kind in FANOUT_KINDS else "parallel"
        return "sequence" if node.layout == "chain" else node.kind

    def label_of(node_id: str) -> str:
        node = graph.node(node_id)
        parent = graph.node(node.parent) if node.parent is not None else None
        if parent is not None and parent.layout == "fan" and node.key is not None:
            return node.key
        return node.name

    return _with_real_kinds(
        plan_lanes(
            graph.root.id,
            kind_of,
            lambda node_id: [child.id for child in graph.children(node_id)],
            label_of,
        ),
        lambda node_id: graph.node(node_id).kind,
    )


def lanes_of_trace(trace: Trace) -> tuple[Lane, ...]:
    """The lanes of a recorded run (for showing a saved trace without its chain)."""
    runs = {node_id: trace.node(node_id) for node_id in trace.node_ids()}

    def children_of(node_id: str) -> list[str]:
        found: dict[str, None] = {}
        for run in trace.runs_of(node_id):
            found.update((child.node_id, None) for child in trace.children(run))
        return list(found)

    def label_of(node_id: str) -> str:
        run = runs[node_id]
        parent = trace.parent(run)
        if parent is not None and parent.kind in FANOUT_KINDS:
            return node_id.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
        return run.name

    return plan_lanes(trace.root.node_id, lambda i: runs[i].kind, children_of, label_of)


def _with_real_kinds(lanes: tuple[Lane, ...], kind_of: Callable[[str], str]) -> tuple[Lane, ...]:
    return tuple(Lane(lane.id, lane.label, kind_of(lane.id)) for lane in lanes)


def preview(value: Any, limit: int = PREVIEW_LIMIT) -> str:
    """A short text for an output: a message's content, a document's text, a dict's
    entries one per line, a string itself, else its ``repr``; cut to ``limit``."""
    text = _preview_text(value, depth=0)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _preview_text(value: Any, depth: int) -> str:
    if isinstance(value, str):
        return value
    content = getattr(value, "content", None)
    if isinstance(content, str):
        return content
    page = getattr(value, "page_content", None)
    if isinstance(page, str):
        return page
    to_string = getattr(value, "to_string", None)
    if callable(getattr(value, "to_messages", None)) and callable(to_string):
        try:  # a prompt value: the text the model will read
            return str(to_string())
        except Exception:
            pass
    if isinstance(value, Mapping) and depth == 0:
        return "\n".join(f"{key}: {_preview_text(item, 1)}" for key, item in value.items())
    if isinstance(value, list | tuple) and depth < 2 and value:
        parts = [_preview_text(item, depth + 1) for item in value[:20]]
        return " | ".join(parts) + (" | …" if len(value) > 20 else "")
    try:
        return repr(value)
    except Exception:  # a broken __repr__ must not break the view
        return f"<{type(value).__name__}>"


def _error_text(error: BaseException | None) -> str:
    if error is None:
        return "error"
    message = str(error)
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


class _Node:
    """What the view knows of one node (mutable, owned by :class:`LiveState`)."""

    __slots__ = ("end_ns", "error", "error_at", "kind", "name", "open", "output",
                 "reason", "start_ns", "status", "tokens")

    def __init__(self, kind: str, name: str, start_ns: int) -> None:
        self.kind = kind
        self.name = name
        self.status: Status = "running"
        self.start_ns = start_ns
        self.end_ns: int | None = None
        self.open = 0
        self.tokens: list[str] = []
        self.output: str | None = None
        self.error: str | None = None
        self.error_at: str | None = None
        self.reason = ""


@dataclass(frozen=True, slots=True)
class Summary:
    """After a run: the wall time, the lanes' times added up, and their ratio."""

    wall_s: float
    sum_s: float
    speedup: float | None
    slowest: str | None

    def to_json(self) -> dict[str, Any]:
        return {"wall_s": self.wall_s, "sum_s": self.sum_s, "speedup": self.speedup,
                "slowest": self.slowest}


class LiveState:
    """The state of one run as its events arrive (one thread at a time: the caller locks)."""

    def __init__(self, lanes: Iterable[Lane] = ()) -> None:
        self.lanes: tuple[Lane, ...] = tuple(lanes)
        self.reset()

    def reset(self) -> None:
        """Forget the run: every node idle again."""
        self.nodes: dict[str, _Node] = {}
        #: lane id → the ids of its nodes that ran, filled as nodes start (an index, so a
        #: snapshot does not scan every node for every lane).
        self.members: dict[str, list[str]] = {lane.id: [] for lane in self.lanes}
        self.root_run: int | None = None
        self.runs: dict[int, str] = {}
        self.t0: int | None = None
        self.end_ns: int | None = None
        self.status: Status = "idle"
        self.critical: tuple[str, ...] = ()
        self.message = ""

    # ------------------------------------------------------------------ folding

    def apply(self, event: ev.RunEvent) -> None:
        """Fold one event in."""
        if isinstance(event, ev.StartEvent):
            self._start(event)
            return
        node_id = self.runs.get(event.run_id)
        if node_id is None:
            return  # a run this state did not see start
        node = self.nodes[node_id]
        if isinstance(event, ev.TokenEvent):
            if event.text:
                node.tokens.append(event.text)
            return
        del self.runs[event.run_id]
        node.open = max(node.open - 1, 0)
        node.end_ns = event.time_ns if node.end_ns is None else max(node.end_ns, event.time_ns)
        if isinstance(event, ev.EndEvent):
            node.status, node.output = "done", preview(event.output)
            node.error = node.error_at = None
        elif isinstance(event, ev.ErrorEvent):
            node.status, node.error = "error", _error_text(event.error)
            node.error_at = (failed_node_id(event.error) if event.error else None) or node_id
        elif isinstance(event, ev.CancelEvent):
            node.status, node.reason = "cancelled", event.reason
        if node.open:
            node.status = "running"
        if event.run_id == self.root_run:
            self.end_ns = event.time_ns
            self.status = node.status

    def _start(self, event: ev.StartEvent) -> None:
        if self.root_run is None:
            if event.parent_run_id is not None:
                return  # the middle of a run whose root this state did not see
            self.root_run, self.t0, self.status = event.run_id, event.time_ns, "running"
        elif event.parent_run_id not in self.runs:
            return  # another run's step: not ours
        self.runs[event.run_id] = event.node_id
        node = self.nodes.get(event.node_id)
        if node is None:
            node = self.nodes[event.node_id] = _Node(event.kind, event.name, event.time_ns)
            self._index(event.node_id)
        else:  # run again (a retry): one span from the first start
            node.status, node.end_ns = "running", None
        node.open += 1

    def apply_all(self, events: Iterable[ev.RunEvent]) -> None:
        for event in events:
            self.apply(event)

    def finish(self, status: Status, *, end_ns: int, reason: str = "",
               critical: Sequence[str] | None = None) -> None:
        """The run is over: nodes still running were cut off (``cancelled``, with
        ``reason``), the run's status is ``status``; the critical path is ``critical``, or
        found from the nodes (:meth:`critical_path`) when None."""
        for node in self.nodes.values():
            if node.status == "running":
                node.status, node.reason, node.open = "cancelled", reason or "stopped", 0
                node.end_ns = end_ns
        self.runs.clear()
        if self.t0 is not None and self.end_ns is None:
            self.end_ns = end_ns
        self.status = status
        self.message = reason
        # A stopped run's critical path would name the branches that happened to finish,
        # not what bounded the wall time (the stopped ones did): it is not drawn.
        if critical is None:
            critical = self.critical_path()
        self.critical = tuple(critical) if status != "cancelled" else ()

    def load_trace(self, trace: Trace) -> None:
        """Show a recorded run: every node as the trace left it."""
        self.reset()
        self.t0 = trace.start_ns
        for node_id in trace.node_ids():
            runs = trace.runs_of(node_id)
            last = runs[-1]
            node = _Node(last.kind, last.name, min(r.start_ns for r in runs))
            ends = [r.end_ns for r in runs if r.end_ns is not None]
            node.end_ns = max(ends) if ends else None
            node.status = "running" if any(r.status == "running" for r in runs) else last.status
            if last.status == "done":
                node.output = preview(last.output)
            if last.error is not None:
                message = last.error.message
                short = last.error.type.rsplit(".", 1)[-1]
                node.error = f"{short}: {message}" if message else short
                raised_in = failed_node_id(last.exception) if last.exception else None
                if raised_in is None and not any(
                    child.status == "error" for child in trace.children(last)
                ):
                    raised_in = node_id  # no child failed: it happened here
                node.error_at = raised_in
            node.reason = last.reason or ""
            self.nodes[node_id] = node
            self._index(node_id)
        self.end_ns = trace.end_ns
        self.status = self.nodes[trace.root.node_id].status
        self.critical = tuple(trace.critical_path()) if self.status != "cancelled" else ()

    def critical_path(self) -> list[str]:
        """The node ids that bounded the wall time, root first (the rule of
        :func:`chainviz.trace.stats.critical_path`: every step of a sequence, and in a
        fan-out the branch that ended last, preferring branches that were not cancelled)."""
        if "" not in self.nodes:
            return []
        children: dict[str, list[str]] = {}
        for node_id in self.nodes:  # in start order
            if node_id:
                children.setdefault(node_id.rpartition("/")[0], []).append(node_id)
        path: list[str] = []
        pending = [""]
        while pending:
            node_id = pending.pop()
            path.append(node_id)
            kids = children.get(node_id, [])
            if not kids:
                continue
            if self.nodes[node_id].kind in FANOUT_KINDS:
                live = [k for k in kids if self.nodes[k].status != "cancelled"] or kids
                pending.append(max(live, key=lambda k: self._end_or_inf(k)))
            else:
                pending.extend(reversed(kids))
        return path

    def _end_or_inf(self, node_id: str) -> float:
        end = self.nodes[node_id].end_ns
        return float("inf") if end is None else float(end)

    # ------------------------------------------------------------------ reading

    def node_status(self, node_id: str) -> Status:
        node = self.nodes.get(node_id)
        return "idle" if node is None else node.status

    def _index(self, node_id: str) -> None:
        for lane in self.lanes:
            if lane.holds(node_id):
                self.members[lane.id].append(node_id)

    def _lane_nodes(self, lane: Lane) -> list[tuple[str, _Node]]:
        return [(i, self.nodes[i]) for i in self.members.get(lane.id, ())]

    def lane_span(self, lane: Lane) -> tuple[int, int | None] | None:
        """``(start_ns, end_ns)`` of a lane (end None while running), or None if idle."""
        node = self.nodes.get(lane.id)
        if node is not None:
            return node.start_ns, None if node.status == "running" else node.end_ns
        inside = self._lane_nodes(lane)
        if not inside:
            return None
        start = min(n.start_ns for _, n in inside)
        if any(n.status == "running" for _, n in inside):
            return start, None
        return start, max((n.end_ns or n.start_ns) for _, n in inside)

    def summary(self) -> Summary | None:
        """Wall time, sum of lane times, speedup; None until the run is over."""
        if self.t0 is None or self.end_ns is None or self.status == "running":
            return None
        wall = (self.end_ns - self.t0) / 1e9
        total = 0.0
        slowest: tuple[float, str] | None = None
        for lane in self.lanes:
            span = self.lane_span(lane)
            if span is None or span[1] is None:
                continue
            seconds = (span[1] - span[0]) / 1e9
            total += seconds
            if slowest is None or seconds > slowest[0]:
                slowest = (seconds, lane.id)
        speedup = total / wall if wall > 0 and total > 0 else None
        return Summary(wall, total, speedup, slowest[1] if slowest else None)

    def snapshot(self, now_ns: int) -> dict[str, Any]:
        """What the view draws, as of ``now_ns`` (a time from the events' clock)."""
        t0 = self.t0
        elapsed = 0.0 if t0 is None else ((self.end_ns or now_ns) - t0) / 1e9
        summary = self.summary()
        return {
            "status": self.status,
            "elapsed_s": max(elapsed, 0.0),
            "message": self.message,
            "nodes": {i: n.status for i, n in self.nodes.items()},
            "errors": {i: n.error for i, n in self.nodes.items() if n.error and n.error_at == i},
            "lanes": [self._lane_json(lane, now_ns) for lane in self.lanes],
            "summary": None if summary is None else summary.to_json(),
            "critical": list(self.critical),
        }

    def _lane_json(self, lane: Lane, now_ns: int) -> dict[str, Any]:
        span = self.lane_span(lane)
        out: dict[str, Any] = {"id": lane.id, "status": "idle", "start_s": None,
                               "elapsed_s": None, "text": "", "error": None,
                               "error_node": None, "reason": ""}
        if span is None or self.t0 is None:
            return out
        start, end = span
        inside = self._lane_nodes(lane)
        own = self.nodes.get(lane.id)
        status: Status = own.status if own is not None else (
            "running" if end is None else _worst(n.status for _, n in inside))
        out["status"] = status
        out["start_s"] = (start - self.t0) / 1e9
        out["elapsed_s"] = max(((end if end is not None else now_ns) - start) / 1e9, 0.0)
        failed = [(i, n) for i, n in inside if n.error and n.error_at == i]
        if failed:
            node_id, node = max(failed, key=lambda item: item[0].count("/"))
            out["error"], out["error_node"] = node.error, node_id
        cancelled = [n.reason for _, n in inside if n.status == "cancelled" and n.reason]
        out["reason"] = cancelled[0] if cancelled else ""
        if own is not None and own.status == "done" and own.output is not None:
            out["text"] = own.output
        else:
            streamed = [n for _, n in inside if n.tokens]
            if streamed:
                text = "".join(max(streamed, key=lambda n: n.start_ns).tokens)
                out["text"] = text if len(text) <= TEXT_LIMIT else "…" + text[-TEXT_LIMIT:]
        return out


def _worst(statuses: Iterable[Status]) -> Status:
    seen = set(statuses)
    order: tuple[Status, ...] = ("error", "cancelled", "done")
    for status in order:
        if status in seen:
            return status
    return "idle"


def format_seconds(seconds: float | None) -> str:
    """``0.42 ms``, ``120 ms``, ``1.23 s``, ``83 s`` (as the browser view writes them)."""
    if seconds is None:
        return "–"
    if seconds < 0.001:
        return f"{seconds * 1000:.2f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10:
        return f"{seconds:.2f} s"
    return f"{seconds:.0f} s"


#: The glyph that shows each status next to its colour (colour is never the only cue).
GLYPHS: dict[str, str] = {
    "idle": "○",
    "running": "◔",
    "done": "✓",
    "error": "✗",
    "cancelled": "⊘",
}

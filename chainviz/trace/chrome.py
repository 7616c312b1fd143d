"""Export to the Chrome trace event format (Perfetto, chrome://tracing, speedscope).

Each step run is a complete event (``"ph": "X"``) with ``ts``/``dur`` in
microseconds from the run's start, on one ``tid`` per branch so overlapping
branches show side by side; thread-name metadata events label the lanes. ``args``
carry the node id, status, token count and, for a failure, the error's type and
(scrubbed) message — never inputs, outputs or config.
"""

from __future__ import annotations

from typing import Any

from chainviz.trace.lanes import assign_lanes
from chainviz.trace.model import NodeRun, Trace
from chainviz.trace.scrub import scrub, scrub_json

__all__ = ["PID", "span_label", "to_chrome_trace"]

PID = 1


def span_label(run: NodeRun) -> str:
    """How an export names a step run: node id and kind (``joke/1 model``)."""
    return f"{run.node_id or '(root)'} {run.kind}"


def _args(run: NodeRun) -> dict[str, Any]:
    args: dict[str, Any] = {
        "node_id": run.node_id,
        "name": run.name,
        "status": run.status,
        "tokens": run.tokens,
    }
    if run.error is not None:
        args["error_type"] = run.error.type
        args["error"] = scrub(run.error.message)
    if run.reason is not None:
        args["reason"] = scrub(run.reason)
    if "model_name" in run.usage:
        args["model"] = run.usage["model_name"]
    return args


def to_chrome_trace(trace: Trace) -> dict[str, Any]:
    """The trace as a Chrome trace JSON object (``json.dump`` it to a ``.json`` file)."""
    origin = trace.start_ns
    lanes = assign_lanes(trace)
    events: list[dict[str, Any]] = [
        {"name": "process_name", "ph": "M", "pid": PID, "tid": 0,
         "args": {"name": f"chainviz {trace.root.name}"}},
    ]
    for lane, node_id in sorted(lanes.names.items()):
        events.append({"name": "thread_name", "ph": "M", "pid": PID, "tid": lane,
                       "args": {"name": node_id or "(root)"}})
        events.append({"name": "thread_sort_index", "ph": "M", "pid": PID, "tid": lane,
                       "args": {"sort_index": lane}})
    for run in trace.runs:
        end = trace.snapshot_ns if run.end_ns is None else run.end_ns
        events.append({
            "name": span_label(run),
            "cat": run.kind,
            "ph": "X",
            "ts": (run.start_ns - origin) / 1e3,
            "dur": max(end - run.start_ns, 0) / 1e3,
            "pid": PID,
            "tid": lanes.lane_of[run.run_id],
            "args": _args(run),
        })
    document = {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "trace_id": trace.trace_id,
            "start_unix_ns": trace.anchor.to_wall_ns(origin),
        },
    }
    result: dict[str, Any] = scrub_json(document)
    return result

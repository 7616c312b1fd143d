"""Saving a trace as JSON and reading it back, to compare runs across sessions.

The file is plain JSON (``"format": "chainviz.trace"``, ``"version": 1``): runs with
their timestamps, statuses, inputs and outputs (as :mod:`chainviz.trace.jsonable`
makes them), errors as type and message. No config and no model object is ever
written, and credential-like strings are scrubbed. Loading parses JSON and checks
its shape; it never imports or executes anything named in the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from chainviz.trace.jsonable import to_jsonable
from chainviz.trace.model import ClockAnchor, ErrorInfo, NodeRun, Status, Trace
from chainviz.trace.scrub import scrub_json

__all__ = ["FORMAT", "VERSION", "load", "save", "trace_from_dict", "trace_to_dict"]

FORMAT = "chainviz.trace"
VERSION = 1
_STATUSES: tuple[Status, ...] = ("done", "error", "cancelled", "running")


def _run_to_dict(run: NodeRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "parent_run_id": run.parent_run_id,
        "node_id": run.node_id,
        "kind": run.kind,
        "name": run.name,
        "start_ns": run.start_ns,
        "end_ns": run.end_ns,
        "status": run.status,
        "tokens": run.tokens,
        "usage": to_jsonable(dict(run.usage)),
        "error": None if run.error is None else {
            "type": run.error.type,
            "message": run.error.message,
        },
        "reason": run.reason,
        "input": to_jsonable(run.input),
        "output": to_jsonable(run.output),
    }


def trace_to_dict(trace: Trace) -> dict[str, Any]:
    """The JSON document of ``trace`` (a dict ready for ``json.dumps``)."""
    document = {
        "format": FORMAT,
        "version": VERSION,
        "trace_id": trace.trace_id,
        "anchor": {"wall_ns": trace.anchor.wall_ns, "monotonic_ns": trace.anchor.monotonic_ns},
        "snapshot_ns": trace.snapshot_ns,
        "runs": [_run_to_dict(run) for run in trace.runs],
    }
    return cast(dict[str, Any], scrub_json(document))


class _Reader:
    """Reads fields of one JSON object, with messages that say where a field is wrong."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise ValueError(f"{where} must be a JSON object, but it is a {type(data).__name__}.")
        self.data = data
        self.where = where

    def _fail(self, key: str, expected: str) -> ValueError:
        value = self.data.get(key)
        return ValueError(
            f"{self.where} needs {key!r} to be {expected}, but it is {value!r:.80}. "
            "Was the file written by Trace.save?"
        )

    def integer(self, key: str) -> int:
        value = self.data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._fail(key, "an integer")
        return value

    def optional_integer(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.integer(key)

    def text(self, key: str) -> str:
        value = self.data.get(key)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def optional_text(self, key: str) -> str | None:
        return None if self.data.get(key) is None else self.text(key)


def _run_from_dict(data: Any, index: int) -> NodeRun:
    read = _Reader(data, f"Run {index} of the trace")
    status = read.text("status")
    if status not in _STATUSES:
        raise ValueError(
            f"Run {index} of the trace has status {status!r}; "
            f"expected one of {', '.join(_STATUSES)}."
        )
    error = None
    if read.data.get("error") is not None:
        err = _Reader(read.data["error"], f"The error of run {index}")
        error = ErrorInfo(err.text("type"), err.text("message"))
    usage = read.data.get("usage") or {}
    if not isinstance(usage, Mapping):
        raise ValueError(f"Run {index} of the trace has a 'usage' that is not a JSON object.")
    return NodeRun(
        run_id=read.integer("run_id"),
        parent_run_id=read.optional_integer("parent_run_id"),
        node_id=read.text("node_id"),
        kind=read.text("kind"),
        name=read.text("name"),
        start_ns=read.integer("start_ns"),
        end_ns=read.optional_integer("end_ns"),
        status=status,
        input=read.data.get("input"),
        output=read.data.get("output"),
        error=error,
        reason=read.optional_text("reason"),
        tokens=read.optional_integer("tokens") or 0,
        usage=dict(usage),
    )


def trace_from_dict(data: Mapping[str, Any]) -> Trace:
    """The trace a :func:`trace_to_dict` document describes."""
    read = _Reader(data, "A saved trace")
    if read.data.get("format") != FORMAT:
        raise ValueError(
            f"This is not a saved chainviz trace: its 'format' is {read.data.get('format')!r:.40}, "
            f"expected {FORMAT!r}."
        )
    version = read.integer("version")
    if version > VERSION:
        raise ValueError(
            f"This trace was saved in format version {version}, newer than this chainviz "
            f"reads ({VERSION}). Upgrade chainviz to load it."
        )
    anchor = _Reader(read.data.get("anchor"), "The trace's 'anchor'")
    runs = read.data.get("runs")
    if not isinstance(runs, list) or not runs:
        raise ValueError("A saved trace needs a non-empty list of 'runs'.")
    return Trace(
        runs=tuple(_run_from_dict(run, i) for i, run in enumerate(runs)),
        anchor=ClockAnchor(anchor.integer("wall_ns"), anchor.integer("monotonic_ns")),
        trace_id=read.text("trace_id"),
        snapshot_ns=read.integer("snapshot_ns"),
    )


def save(trace: Trace, path: str | Path) -> None:
    """Write ``trace`` to ``path`` as UTF-8 JSON."""
    text = json.dumps(trace_to_dict(trace), ensure_ascii=False, allow_nan=False, indent=1)
    Path(path).write_text(text + "\n", encoding="utf-8")


def load(path: str | Path) -> Trace:
    """Read a trace written by :func:`save`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a saved trace: it is not valid JSON ({exc}).") from exc
    return trace_from_dict(data)

"""Export to OTLP/JSON: an ``ExportTraceServiceRequest`` any OpenTelemetry backend takes.

One span per step run, in one resource and one scope. Ids follow OTLP/JSON:
``traceId`` is 32 hex digits, ``spanId``/``parentSpanId`` 16 (the root's parent is
``""``). Times are wall-clock nanoseconds, as decimal strings, placed with the
recording's clock anchor. Model calls (span kind CLIENT) carry the ``gen_ai.*``
attributes their output reported (model name, token usage). Errors become status
ERROR plus an ``exception`` span event, with credential-like text scrubbed. No
input, output or config is exported.
"""

from __future__ import annotations

import hashlib
from typing import Any

from chainviz.trace.chrome import span_label
from chainviz.trace.model import NodeRun, Trace
from chainviz.trace.scrub import scrub, scrub_json
from chainviz.trace.usage import MODEL_KINDS

__all__ = [
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_INTERNAL",
    "STATUS_CODE_ERROR",
    "STATUS_CODE_OK",
    "STATUS_CODE_UNSET",
    "attribute",
    "span_id",
    "to_otlp_json",
]

SPAN_KIND_INTERNAL = 1
SPAN_KIND_CLIENT = 3
STATUS_CODE_UNSET = 0
STATUS_CODE_OK = 1
STATUS_CODE_ERROR = 2

_SCOPE = "chainviz.trace"


def attribute(key: str, value: str | int | float | bool) -> dict[str, Any]:
    """One ``KeyValue`` (64-bit ints as decimal strings, as the protobuf JSON mapping has it)."""
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def span_id(trace: Trace, run: NodeRun) -> str:
    """A stable 16-hex-digit span id for one run of a trace."""
    seed = f"{trace.trace_id}:{run.run_id}".encode()
    return hashlib.blake2b(seed, digest_size=8).hexdigest()


def _attributes(run: NodeRun) -> list[dict[str, Any]]:
    attributes = [
        attribute("chainviz.node_id", run.node_id),
        attribute("chainviz.kind", run.kind),
        attribute("chainviz.name", run.name),
        attribute("chainviz.status", run.status),
        attribute("chainviz.tokens", run.tokens),
    ]
    if run.reason is not None:
        attributes.append(attribute("chainviz.cancel_reason", scrub(run.reason)))
    if run.error is not None:
        attributes.append(attribute("error.type", run.error.type))
    if run.kind in MODEL_KINDS:
        usage = run.usage
        attributes.append(attribute("gen_ai.operation.name", "chat"))
        if "model_name" in usage:
            attributes.append(attribute("gen_ai.request.model", str(usage["model_name"])))
            attributes.append(attribute("gen_ai.response.model", str(usage["model_name"])))
        for source, target in (
            ("input_tokens", "gen_ai.usage.input_tokens"),
            ("output_tokens", "gen_ai.usage.output_tokens"),
        ):
            if isinstance(usage.get(source), int):
                attributes.append(attribute(target, int(usage[source])))
    return attributes


def _span(trace: Trace, run: NodeRun) -> dict[str, Any]:
    anchor = trace.anchor
    end_ns = trace.snapshot_ns if run.end_ns is None else run.end_ns
    parent = trace.parent(run)
    span: dict[str, Any] = {
        "traceId": trace.trace_id,
        "spanId": span_id(trace, run),
        "parentSpanId": "" if parent is None else span_id(trace, parent),
        "name": span_label(run),
        "kind": SPAN_KIND_CLIENT if run.kind in MODEL_KINDS else SPAN_KIND_INTERNAL,
        "startTimeUnixNano": str(anchor.to_wall_ns(run.start_ns)),
        "endTimeUnixNano": str(anchor.to_wall_ns(end_ns)),
        "attributes": _attributes(run),
    }
    if run.status == "done":
        span["status"] = {"code": STATUS_CODE_OK}
    elif run.status == "error":
        message = "" if run.error is None else scrub(run.error.message)
        span["status"] = {"code": STATUS_CODE_ERROR, "message": message}
        if run.error is not None:
            span["events"] = [{
                "timeUnixNano": str(anchor.to_wall_ns(end_ns)),
                "name": "exception",
                "attributes": [
                    attribute("exception.type", run.error.type),
                    attribute("exception.message", message),
                ],
            }]
    else:
        span["status"] = {"code": STATUS_CODE_UNSET}
    return span


def to_otlp_json(trace: Trace) -> dict[str, Any]:
    """The trace as an OTLP/JSON ``ExportTraceServiceRequest`` (POST it to ``/v1/traces``)."""
    from chainviz import __version__

    request = {
        "resourceSpans": [{
            "resource": {"attributes": [
                attribute("service.name", "chainviz"),
                attribute("telemetry.sdk.name", "chainviz"),
                attribute("telemetry.sdk.language", "python"),
                attribute("telemetry.sdk.version", __version__),
            ]},
            "scopeSpans": [{
                "scope": {"name": _SCOPE, "version": __version__},
                "spans": [_span(trace, run) for run in trace.runs],
            }],
        }],
    }
    result: dict[str, Any] = scrub_json(request)
    return result

"""OTLP/JSON export: the ExportTraceServiceRequest shape, wall-clock times, gen_ai attributes."""

from __future__ import annotations

import base64
import copy
import json
import re
import time
from typing import Any

import pytest
from trace_fakes import MS, EventScript, FakeChatModel, parallel_script

from chainviz import RunnableLambda
from chainviz.trace import ClockAnchor, Recorder

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
VALUE_KEYS = {"stringValue", "intValue", "doubleValue", "boolValue", "arrayValue", "kvlistValue",
              "bytesValue"}


def _spans(request: dict[str, Any]) -> list[dict[str, Any]]:
    (resource_spans,) = request["resourceSpans"]
    (scope_spans,) = resource_spans["scopeSpans"]
    return list(scope_spans["spans"])


def _attributes(holder: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in holder["attributes"]:
        assert set(item) == {"key", "value"}
        (kind,) = item["value"]
        assert kind in VALUE_KEYS
        found[item["key"]] = item["value"][kind]
    return found


def test_the_request_has_the_otlp_shape() -> None:
    script, _ = parallel_script()
    request = script.trace().to_otlp_json()
    json.dumps(request)
    (resource_spans,) = request["resourceSpans"]
    assert _attributes(resource_spans["resource"])["service.name"] == "chainviz"
    (scope_spans,) = resource_spans["scopeSpans"]
    assert scope_spans["scope"]["name"] == "chainviz.trace"
    spans = _spans(request)
    assert len(spans) == 5
    trace_ids = {span["traceId"] for span in spans}
    assert len(trace_ids) == 1 and HEX32.match(trace_ids.pop())
    ids = {span["spanId"] for span in spans}
    assert len(ids) == 5 and all(HEX16.match(i) for i in ids)
    roots = [span for span in spans if span["parentSpanId"] == ""]
    assert len(roots) == 1
    for span in spans:
        assert span["parentSpanId"] == "" or span["parentSpanId"] in ids
        assert isinstance(span["startTimeUnixNano"], str) and span["startTimeUnixNano"].isdigit()
        assert int(span["startTimeUnixNano"]) <= int(span["endTimeUnixNano"])
        assert span["kind"] in (1, 3)
        assert span["status"]["code"] == 1
        attributes = _attributes(span)
        assert attributes["chainviz.status"] == "done"
        assert isinstance(attributes["chainviz.tokens"], str)  # int64 as a decimal string


def test_parents_follow_the_run_tree() -> None:
    script, _ = parallel_script()
    spans = {span["name"]: span for span in _spans(script.trace().to_otlp_json())}
    assert spans["slow/1 model"]["parentSpanId"] == spans["slow sequence"]["spanId"]
    assert spans["slow sequence"]["parentSpanId"] == spans["(root) parallel"]["spanId"]


def test_times_are_wall_clock_through_the_anchor() -> None:
    script, _ = parallel_script()
    anchor = ClockAnchor(wall_ns=1_700_000_000_000_000_000, monotonic_ns=-5 * MS)
    spans = {span["name"]: span for span in _spans(script.trace(anchor).to_otlp_json())}
    model = spans["slow/1 model"]
    assert model["startTimeUnixNano"] == str(1_700_000_000_000_000_000 + 16 * MS)
    assert model["endTimeUnixNano"] == str(1_700_000_000_000_000_000 + 85 * MS)


def test_a_real_run_lands_between_the_wall_clock_readings_around_it() -> None:
    recorder = Recorder()
    before = time.time_ns()
    (RunnableLambda(lambda x: x) | RunnableLambda(lambda x: x)).invoke(1, {"callbacks": [recorder]})
    after = time.time_ns()
    for span in _spans(recorder.last.to_otlp_json()):
        # Generous slack: the two clocks are read a few microseconds apart.
        assert before - 5 * MS <= int(span["startTimeUnixNano"]) <= after + 5 * MS
        assert before - 5 * MS <= int(span["endTimeUnixNano"]) <= after + 5 * MS


def test_model_calls_carry_gen_ai_attributes() -> None:
    recorder = Recorder()
    chain = RunnableLambda(lambda t: f"a joke about {t}") | FakeChatModel("gpt-fake-mini")
    chain.invoke("bears", {"callbacks": [recorder]})
    spans = {span["name"]: span for span in _spans(recorder.last.to_otlp_json())}
    model = spans["1 model"]
    assert model["kind"] == 3  # CLIENT
    attributes = _attributes(model)
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.request.model"] == "gpt-fake-mini"
    assert attributes["gen_ai.response.model"] == "gpt-fake-mini"
    assert attributes["gen_ai.usage.input_tokens"] == "4"
    assert attributes["gen_ai.usage.output_tokens"] == "3"
    assert not any(k.startswith("gen_ai.") for k in _attributes(spans["0 function"]))
    assert not any(k.startswith("gen_ai.") for k in _attributes(spans["(root) sequence"]))


def test_failures_and_cancellations_set_status_and_an_exception_event() -> None:
    s = EventScript()
    root = s.start("", "parallel", 0)
    bad = s.start("bad", "function", 0, root)
    other = s.start("other", "function", 0, root)
    s.error(bad, 2 * MS, KeyError("topic"))
    s.cancel(other, 3 * MS, "sibling 'bad' failed")
    s.error(root, 3 * MS, KeyError("topic"))
    spans = {span["name"]: span for span in _spans(s.trace().to_otlp_json())}
    failed = spans["bad function"]
    assert failed["status"] == {"code": 2, "message": "'topic'"}
    (event,) = failed["events"]
    assert event["name"] == "exception"
    assert _attributes(event) == {"exception.type": "KeyError", "exception.message": "'topic'"}
    cancelled = spans["other function"]
    assert cancelled["status"] == {"code": 0}
    assert _attributes(cancelled)["chainviz.cancel_reason"] == "sibling 'bad' failed"


def _hex_ids_to_base64(request: dict[str, Any]) -> dict[str, Any]:
    """OTLP/JSON writes ids as hex; protobuf's JSON mapping expects base64."""
    converted = copy.deepcopy(request)
    for span in _spans(converted):
        for key in ("traceId", "spanId", "parentSpanId"):
            span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    return converted


def test_the_request_parses_as_the_protobuf_message() -> None:
    pytest.importorskip("opentelemetry.proto.collector.trace.v1.trace_service_pb2")
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    recorder = Recorder()
    (RunnableLambda(lambda t: t) | FakeChatModel()).invoke("x y", {"callbacks": [recorder]})
    request = recorder.last.to_otlp_json()
    message = json_format.ParseDict(
        _hex_ids_to_base64(request), ExportTraceServiceRequest(), ignore_unknown_fields=False
    )
    spans = message.resource_spans[0].scope_spans[0].spans
    assert len(spans) == 3
    for span in spans:
        assert len(span.trace_id) == 16 and len(span.span_id) == 8
        assert span.end_time_unix_nano >= span.start_time_unix_nano > 1_500_000_000 * 10**9
    model = next(span for span in spans if span.kind == span.SPAN_KIND_CLIENT)
    usage = {a.key: a.value.int_value for a in model.attributes if a.key.startswith("gen_ai.usage")}
    assert usage == {"gen_ai.usage.input_tokens": 2, "gen_ai.usage.output_tokens": 3}

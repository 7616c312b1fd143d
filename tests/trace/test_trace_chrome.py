"""Chrome trace event format: complete events in microseconds, one lane per branch."""

from __future__ import annotations

import json

import pytest
from trace_fakes import MS, EventScript, Sleep, parallel_script

from chainviz import RunnableLambda, RunnableParallel
from chainviz.trace import Recorder


def _complete(document: dict) -> list[dict]:
    return [e for e in document["traceEvents"] if e["ph"] == "X"]


def test_every_run_is_a_complete_event_in_microseconds() -> None:
    script, _ = parallel_script()
    trace = script.trace()
    document = trace.to_chrome_trace()
    json.dumps(document)  # plain JSON
    assert document["displayTimeUnit"] == "ms"
    events = _complete(document)
    assert len(events) == len(trace.runs)
    by_name = {e["name"]: e for e in events}
    assert set(by_name) == {
        "(root) parallel", "fast function", "slow sequence", "slow/0 prompt", "slow/1 model"
    }
    model = by_name["slow/1 model"]
    assert model["ts"] == pytest.approx(11_000)  # 11 ms after the root started
    assert model["dur"] == pytest.approx(69_000)
    assert model["cat"] == "model"
    assert model["pid"] == 1
    assert model["args"]["status"] == "done"
    assert model["args"]["node_id"] == "slow/1"
    assert model["args"]["tokens"] == 2
    assert by_name["(root) parallel"]["ts"] == 0


def test_each_branch_gets_its_own_tid_and_a_thread_name() -> None:
    script, _ = parallel_script()
    document = script.trace().to_chrome_trace()
    tid = {e["args"]["node_id"]: e["tid"] for e in _complete(document)}
    assert tid[""] == 0
    assert tid["fast"] != tid["slow"]
    assert 0 not in (tid["fast"], tid["slow"])
    assert tid["slow/0"] == tid["slow/1"] == tid["slow"]  # a sequence stays on its lane
    names = {
        e["tid"]: e["args"]["name"]
        for e in document["traceEvents"]
        if e["ph"] == "M" and e["name"] == "thread_name"
    }
    assert names[tid["fast"]] == "fast" and names[tid["slow"]] == "slow"


def test_events_on_one_tid_nest_and_never_partly_overlap() -> None:
    recorder = Recorder()
    inner = RunnableParallel(x=Sleep(0.01), y=Sleep(0.02))
    chain = RunnableParallel(left=RunnableLambda(lambda v: v) | inner, right=Sleep(0.015))
    chain.invoke(None, {"callbacks": [recorder]})
    events = _complete(recorder.last.to_chrome_trace())
    lanes: dict[int, list[tuple[float, float]]] = {}
    for event in events:
        lanes.setdefault(event["tid"], []).append((event["ts"], event["ts"] + event["dur"]))
    for spans in lanes.values():
        for a_start, a_end in spans:
            for b_start, b_end in spans:
                overlap = a_start < b_end and b_start < a_end
                nested = (a_start <= b_start and b_end <= a_end) or (
                    b_start <= a_start and a_end <= b_end
                )
                assert not overlap or nested
    tids = {e["args"]["node_id"]: e["tid"] for e in events}
    assert len({tids["left"], tids["right"], tids["left/1/x"], tids["left/1/y"]}) == 4


def test_a_plain_sequence_gives_each_step_a_lane() -> None:
    s = EventScript()
    root = s.start("", "sequence", 0)
    a = s.start("0", "prompt", 0, root)
    s.end(a, 1 * MS)
    b = s.start("1", "model", 1 * MS, root)
    s.error(b, 3 * MS, RuntimeError("model down"))
    s.error(root, 3 * MS, RuntimeError("model down"))
    events = _complete(s.trace().to_chrome_trace())
    tids = {e["args"]["node_id"]: e["tid"] for e in events}
    assert len(set(tids.values())) == 3
    failed = next(e for e in events if e["args"]["node_id"] == "1")
    assert failed["args"]["status"] == "error"
    assert failed["args"]["error_type"] == "RuntimeError"
    assert failed["args"]["error"] == "model down"


def test_running_steps_last_until_the_snapshot() -> None:
    s = EventScript()
    root = s.start("", "sequence", 0)
    step = s.start("0", "model", 2 * MS, root)
    s.token(step, 7 * MS)
    events = _complete(s.trace().to_chrome_trace())
    running = next(e for e in events if e["args"]["node_id"] == "0")
    assert running["args"]["status"] == "running"
    assert running["dur"] == pytest.approx(5_000)

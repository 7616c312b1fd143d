"""The live state folded from run events: lanes, statuses, times, tokens, errors, summary."""

from __future__ import annotations

import json
from typing import Any

import pytest
from widget_steps import Fail, Sleep, Talk, events_of

from chainviz import RunnableLambda, RunnableParallel, RunnablePassthrough
from chainviz.core import events as ev
from chainviz.messages import AIMessage
from chainviz.prompts import ChatPromptTemplate
from chainviz.trace import Recorder
from chainviz.widgets.state import (
    Lane,
    LiveState,
    format_seconds,
    lanes_of_graph,
    lanes_of_trace,
    preview,
)

MS = 1_000_000


def start(t: int, run: int, parent: int | None, node: str, kind: str = "function") -> ev.StartEvent:
    return ev.StartEvent(t * MS, run, parent, node, kind, node or "root")


def end(t: int, run: int, parent: int | None, node: str, output: Any = None) -> ev.EndEvent:
    return ev.EndEvent(t * MS, run, parent, node, "function", node or "root", output)


def token(t: int, run: int, parent: int, node: str, text: str) -> ev.TokenEvent:
    return ev.TokenEvent(t * MS, run, parent, node, "model", node, text)


def ids(lanes: tuple[Lane, ...]) -> list[str]:
    return [lane.id for lane in lanes]


# ------------------------------------------------------------------------------ lanes


def test_lanes_of_a_parallel_are_its_branches() -> None:
    chain = RunnableParallel(joke=Sleep(0) | Talk(["a"]), poem=Sleep(0))
    lanes = lanes_of_graph(chain.get_graph())
    assert ids(lanes) == ["joke", "poem"]
    assert [lane.label for lane in lanes] == ["joke", "poem"]


def test_lanes_of_a_plain_sequence_are_its_steps() -> None:
    chain = Sleep(0, name="first") | Sleep(0, name="second") | Talk(["x"])
    lanes = lanes_of_graph(chain.get_graph())
    assert ids(lanes) == ["0", "1", "2"]
    assert [lane.label for lane in lanes] == ["first", "second", "Talk"]


def test_lanes_of_a_map_then_steps_show_branches_side_by_side_then_the_steps() -> None:
    chain = {"context": Sleep(0), "question": RunnablePassthrough()} | Sleep(0) | Talk(["x"])
    assert ids(lanes_of_graph(chain.get_graph())) == ["0/context", "0/question", "1", "2"]


def test_a_single_step_is_one_lane_and_a_nested_parallel_stays_inside_its_branch() -> None:
    assert ids(lanes_of_graph(Sleep(0).get_graph())) == [""]
    nested = RunnableParallel(a=RunnableParallel(x=Sleep(0), y=Sleep(0)), b=Sleep(0))
    assert ids(lanes_of_graph(nested.get_graph())) == ["a", "b"]


def test_lanes_of_a_trace_match_lanes_of_the_graph() -> None:
    chain = {"context": Sleep(0), "question": RunnablePassthrough()} | Sleep(0) | Talk(["x"])
    recorder = Recorder()
    chain.invoke("q", {"callbacks": [recorder]})
    assert lanes_of_trace(recorder.last) == lanes_of_graph(chain.get_graph())


def test_lane_holds_its_node_and_everything_below_only() -> None:
    lane = Lane("joke", "joke", "sequence")
    assert lane.holds("joke") and lane.holds("joke/1")
    assert not lane.holds("joker") and not lane.holds("poem/joke")
    assert Lane("", "root", "function").holds("anything")


# ---------------------------------------------------------------------- folding events


def two_branches() -> LiveState:
    return LiveState([Lane("a", "a", "function"), Lane("b", "b", "function")])


def test_bars_start_where_their_step_started_and_grow_until_it_ends() -> None:
    state = two_branches()
    state.apply_all([start(100, 1, None, "", "parallel"), start(101, 2, 1, "a"),
                     start(103, 3, 1, "b")])
    snap = state.snapshot(now_ns=150 * MS)
    assert snap["status"] == "running"
    a, b = snap["lanes"]
    assert (a["status"], a["start_s"], a["elapsed_s"]) == ("running", 0.001, 0.049)
    assert (b["status"], b["start_s"], b["elapsed_s"]) == ("running", 0.003, 0.047)
    assert snap["nodes"] == {"": "running", "a": "running", "b": "running"}

    state.apply(end(180, 3, 1, "b", "B"))
    snap = state.snapshot(now_ns=200 * MS)
    assert snap["lanes"][1]["elapsed_s"] == pytest.approx(0.077)  # fixed once it ended
    assert snap["lanes"][1]["text"] == "B"
    assert snap["lanes"][0]["elapsed_s"] == pytest.approx(0.099)  # still growing
    assert snap["summary"] is None


def test_the_summary_gives_wall_time_sum_of_branches_and_speedup() -> None:
    state = two_branches()
    state.apply_all([start(0, 1, None, "", "parallel"), start(0, 2, 1, "a"), start(0, 3, 1, "b"),
                     end(400, 3, 1, "b"), end(1000, 2, 1, "a"), end(1001, 1, None, "")])
    summary = state.summary()
    assert summary is not None
    assert summary.wall_s == pytest.approx(1.001)
    assert summary.sum_s == pytest.approx(1.4)
    assert summary.speedup == pytest.approx(1.4 / 1.001)
    assert summary.slowest == "a"
    assert state.snapshot(now_ns=5000 * MS)["elapsed_s"] == pytest.approx(1.001)


def test_tokens_show_in_their_lane_as_they_stream_then_the_output_replaces_them() -> None:
    state = LiveState([Lane("a", "a", "sequence")])
    state.apply_all([start(0, 1, None, "", "parallel"), start(0, 2, 1, "a", "sequence"),
                     start(1, 3, 2, "a/0", "model"), token(2, 3, 2, "a/0", "Why "),
                     token(3, 3, 2, "a/0", "bears")])
    assert state.snapshot(4 * MS)["lanes"][0]["text"] == "Why bears"
    state.apply_all([token(5, 3, 2, "a/0", "?"), end(6, 3, 2, "a/0", AIMessage("Why bears?")),
                     end(7, 2, 1, "a", AIMessage("Why bears?!"))])
    assert state.snapshot(8 * MS)["lanes"][0]["text"] == "Why bears?!"


def test_a_failed_node_shows_its_error_where_it_happened() -> None:
    chain = RunnableParallel(good=Sleep(0, "fine"), bad=Sleep(0) | Fail("no <b>luck</b>"))
    state = LiveState(lanes_of_graph(chain.get_graph()))
    state.apply_all(events_of(chain, {}))
    snap = state.snapshot(ev.clock())
    good, bad = snap["lanes"]
    assert good["status"] == "done" and good["text"] == "fine"
    assert bad["status"] == "error"
    assert bad["error_node"] == "bad/1"
    assert bad["error"] == "ValueError: no <b>luck</b>"
    # Parents fail too, but the error is shown once: at the step that raised it.
    assert snap["errors"] == {"bad/1": "ValueError: no <b>luck</b>"}
    assert snap["nodes"]["bad"] == "error" and snap["nodes"][""] == "error"


def test_finishing_a_stopped_run_cancels_what_still_runs_and_keeps_what_finished() -> None:
    state = two_branches()
    state.apply_all([start(0, 1, None, "", "parallel"), start(0, 2, 1, "a"), start(0, 3, 1, "b"),
                     end(100, 2, 1, "a", "A")])
    state.finish("cancelled", end_ns=300 * MS, reason="stopped", critical=["", "a"])
    snap = state.snapshot(now_ns=900 * MS)
    assert snap["status"] == "cancelled"
    assert snap["critical"] == []  # what finished first did not bound a stopped run
    a, b = snap["lanes"]
    assert (a["status"], a["text"], a["elapsed_s"]) == ("done", "A", 0.1)
    assert (b["status"], b["reason"], b["elapsed_s"]) == ("cancelled", "stopped", 0.3)
    assert snap["nodes"] == {"": "cancelled", "a": "done", "b": "cancelled"}


def test_events_of_another_run_are_ignored() -> None:
    state = two_branches()
    state.apply_all([start(0, 1, None, "", "parallel"), start(0, 2, 1, "a"),
                     start(5, 50, None, "", "parallel"), start(5, 51, 50, "b"),
                     end(9, 51, 50, "b")])
    snap = state.snapshot(10 * MS)
    assert snap["lanes"][1]["status"] == "idle"
    assert snap["elapsed_s"] == pytest.approx(0.010)


def test_a_retried_node_spans_from_its_first_start_to_its_last_end() -> None:
    state = LiveState([Lane("a", "a", "function")])
    state.apply_all([start(0, 1, None, "", "sequence"), start(10, 2, 1, "a")])
    state.apply(ev.ErrorEvent(20 * MS, 2, 1, "a", "function", "a", ValueError("flaky")))
    assert state.snapshot(21 * MS)["lanes"][0]["status"] == "error"
    state.apply_all([start(30, 3, 1, "a"), end(50, 3, 1, "a", "ok")])
    lane = state.snapshot(60 * MS)["lanes"][0]
    assert (lane["status"], lane["start_s"], lane["elapsed_s"], lane["error"]) == (
        "done", 0.01, 0.04, None)


def test_a_saved_trace_loads_into_the_same_picture_as_the_live_run() -> None:
    chain = RunnableParallel(a=Sleep(0.01, "A"), b=Sleep(0) | Fail("boom"))
    recorder = Recorder()
    live = LiveState(lanes_of_graph(chain.get_graph()))
    with pytest.raises(ValueError):
        chain.invoke({}, {"callbacks": [recorder, live.apply]})
    loaded = LiveState(lanes_of_trace(recorder.last))
    loaded.load_trace(recorder.last)
    now = ev.clock()
    for key in ("status", "nodes", "errors"):
        assert loaded.snapshot(now)[key] == live.snapshot(now)[key]
    assert [lane["status"] for lane in loaded.snapshot(now)["lanes"]] == [
        lane["status"] for lane in live.snapshot(now)["lanes"]]
    assert loaded.critical == tuple(recorder.last.critical_path())


def test_a_snapshot_is_plain_json() -> None:
    chain = RunnableParallel(a=RunnableLambda(lambda x: {"set": {1, 2}}), b=Talk(["hi", "!"]))
    state = LiveState(lanes_of_graph(chain.get_graph()))
    state.apply_all(events_of(chain, "x"))
    snap = state.snapshot(ev.clock())
    assert json.loads(json.dumps(snap)) == snap


# ----------------------------------------------------------------------------- text


def test_preview_shows_content_entries_and_survives_a_broken_repr() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert preview(AIMessage("hello")) == "hello"
    prompt = ChatPromptTemplate.from_template("a joke about {topic}").invoke({"topic": "x"})
    assert preview(prompt) == "Human: a joke about x"
    assert preview({"joke": AIMessage("ha"), "n": 3}) == "joke: ha\nn: 3"
    assert preview(Broken()) == "<Broken>"
    assert preview("x" * 5000, limit=10) == "x" * 9 + "…"


def test_seconds_are_written_as_the_browser_writes_them() -> None:
    assert [format_seconds(s) for s in (0.0004, 0.12, 1.234, 83.0, None)] == [
        "0.40 ms", "120 ms", "1.23 s", "83 s", "–"]


@pytest.mark.parametrize("make", [
    lambda: RunnableParallel(a=Sleep(0.02) | Talk(["x"]), b=Sleep(0.001)),
    lambda: {"context": Sleep(0.01), "question": RunnablePassthrough()} | Sleep(0) | Talk(["x"]),
    lambda: RunnableParallel(ok=Sleep(0.05), bad=Sleep(0) | Fail("no")),
    lambda: Sleep(0),
])
def test_the_critical_path_is_the_one_the_trace_finds(make: Any) -> None:
    chain = make()
    recorder = Recorder()
    state = LiveState(lanes_of_graph(chain.get_graph()))
    try:
        chain.invoke({}, {"callbacks": [recorder, state.apply]})
    except ValueError:
        pass
    assert state.critical_path() == recorder.last.critical_path()

"""What a ChainView sends to the browser, without a kernel: its state, and how often.

The comm of every widget is replaced by a recording one (see ``conftest.py``) and the
view's refresh throttle runs on a fake clock, so rates are counted on that clock.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import pytest
from widget_fakes import FakeClock, Recorder, Sent
from widget_steps import Fail, Gate, Sleep, Talk

from chainviz import RunnableParallel
from chainviz.errors import ChainvizError, RunCancelled
from chainviz.widgets import ChainView
from chainviz.widgets.chainview import STATIC


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


def snapshots(recorded: Recorder, view: ChainView) -> list[tuple[Sent, dict[str, Any]]]:
    return [(m, m.data["state"]["snapshot"]) for m in recorded.updates(view.live.model_id)
            if "snapshot" in m.data["state"]]


def test_the_live_widget_opens_with_its_files_the_graph_and_the_lanes(recorded: Recorder) -> None:
    view = ChainView(RunnableParallel(joke=Sleep(0), poem=Sleep(0)))
    opened = [m for m in recorded.messages
              if m.msg_type == "comm_open" and m.comm_id == view.live.model_id]
    assert len(opened) == 1
    state = opened[0].data["state"]
    assert state["_esm"] == (STATIC / "chainview.js").read_text()
    assert state["_css"] == (STATIC / "chainview.css").read_text()
    assert 'data-node-id="joke"' in state["graph_svg"]
    assert [lane["id"] for lane in state["lanes"]] == ["joke", "poem"]
    assert state["snapshot"]["status"] == "idle"
    assert "cdn" not in state["_esm"].lower() and "http" not in state["_esm"].replace(
        "http://www.w3.org/2000/svg", "")


def test_a_run_sends_batched_snapshots_at_most_ten_a_second_plus_a_final_one(
    recorded: Recorder, clock: FakeClock
) -> None:
    gate = Gate(["Why ", "did ", "the ", "bear"], "Why did the bear?")
    chain = RunnableParallel(joke=gate, poem=Talk(["roses"]))
    view = ChainView(chain, clock=clock)
    recorded.clear()
    future = view.start({"topic": "bear"})
    assert gate.streamed.wait(10)

    # The clock has not moved: the begin flush went out, a tick may send one more.
    clock.advance(0.5)
    streaming = wait_for(
        lambda: [s for _, s in snapshots(recorded, view)
                 if s["status"] == "running" and s["lanes"][0]["text"] == "Why did the bear"],
        "a snapshot with the streamed tokens")
    assert streaming[0]["lanes"][0]["status"] == "running"
    assert streaming[0]["nodes"]["joke"] == "running"
    # Hold the clock still: however many events come, no tick may publish now. (A tick
    # that read the clock just before it was advanced may still publish once more:
    # let it land before counting.)
    time.sleep(0.3)
    count = len(recorded.updates(view.live.model_id))
    time.sleep(0.35)
    assert len(recorded.updates(view.live.model_id)) == count

    gate.gate.set()
    assert future.result(timeout=10) == {"joke": "Why did the bear?", "poem": "roses"}
    sent = snapshots(recorded, view)
    ticks = [m.at for m, _ in sent[:-1]]
    assert all(b - a >= 0.1 - 1e-9 for a, b in itertools.pairwise(ticks))
    assert len(sent) <= 0.5 / 0.1 + 2
    # Each tick is one message holding only the snapshot, and every publication is a message.
    assert all(set(m.data["state"]) == {"snapshot"} for m, _ in sent)
    assert len(sent) == view._throttle.published
    # Other widgets change only when the run starts (the form shows its input, the
    # buttons and fields are disabled) and when it ends (enabled again).
    others = [m for m in recorded.updates() if m.comm_id != view.live.model_id]
    assert {tuple(m.data["state"]) for m in others} <= {("disabled",), ("value",)}
    assert len(others) <= 3 * (2 + len(view.form.texts))  # type: ignore[union-attr]

    final = sent[-1][1]
    assert final["status"] == "done" and final["run"] == 1
    assert [lane["text"] for lane in final["lanes"]] == ["Why did the bear?", "roses"]
    assert final["summary"]["wall_s"] > 0 and final["summary"]["speedup"] > 0
    assert final["critical"][:2] == ["", "joke"]


def test_run_blocks_and_returns_the_output_and_keeps_the_trace_in_history(
    recorded: Recorder,
) -> None:
    view = ChainView(RunnableParallel(a=Sleep(0.05, "A"), b=Sleep(0.02, "B")))
    assert view.trace is None and view.summary is None
    assert view.run({}) == {"a": "A", "b": "B"}
    assert view.run({}) == {"a": "A", "b": "B"}
    assert len(view.history) == 2 and view.trace is view.history[-1]
    assert view.trace.status == "done"
    assert view.summary is not None and view.summary.slowest == "a"
    assert view.snapshot["run"] == 2
    assert not view.run_button.disabled and view.stop_button.disabled


def test_the_buttons_start_a_background_run_from_the_form_and_stop_it(recorded: Recorder) -> None:
    gate = Gate(["tok"])
    seen: list[Any] = []
    chain = RunnableParallel(slow=gate, fast=Sleep(0, "done fast"),
                             echo=lambda x: seen.append(x) or x)
    view = ChainView(chain)
    view.form.texts["input"].value = "hello"  # type: ignore[union-attr]
    view.run_button.click()
    assert gate.streamed.wait(10)
    assert view.running and view.run_button.disabled and not view.stop_button.disabled
    view.run_button.click()  # a second click while running does nothing
    wait_for(lambda: {lane["id"]: lane["status"] for lane in view.snapshot["lanes"]}
             == {"slow": "running", "fast": "done", "echo": "done"}, "the quick lanes to end")
    view.stop_button.click()
    assert view.wait(10)
    final = view.snapshot
    assert final["status"] == "cancelled"
    lanes = {lane["id"]: lane for lane in final["lanes"]}
    assert lanes["slow"]["status"] == "cancelled" and lanes["slow"]["text"] == "tok"
    assert lanes["fast"]["status"] == "done" and lanes["fast"]["text"] == "done fast"
    assert seen == ["hello"]
    assert view.trace is not None and view.trace.status == "cancelled"
    with pytest.raises(RunCancelled):
        view._runner.future.result()  # type: ignore[union-attr]


def test_a_failed_run_shows_the_error_and_raises_it(recorded: Recorder) -> None:
    view = ChainView(RunnableParallel(ok=Sleep(0, "fine"), bad=Sleep(0) | Fail("no luck")))
    with pytest.raises(ValueError, match="no luck"):
        view.run({})
    final = view.snapshot
    assert final["status"] == "error"
    bad = next(lane for lane in final["lanes"] if lane["id"] == "bad")
    assert (bad["error_node"], bad["error"]) == ("bad/1", "ValueError: no luck")


def test_a_saved_trace_shows_without_a_chain(recorded: Recorder) -> None:
    source = ChainView(RunnableParallel(a=Sleep(0.01, "A"), b=Sleep(0, "B")))
    source.run({})
    assert source.trace is not None
    view = ChainView(trace=source.trace)
    assert view.form is None and view.history == [source.trace]
    snap = view.snapshot
    assert snap["status"] == "done"
    assert [lane["text"] for lane in snap["lanes"]] == ["A", "B"]
    with pytest.raises(ChainvizError, match="no chain to run"):
        view.run({})


def test_updates_are_limited_to_ten_a_second(recorded: Recorder) -> None:
    with pytest.raises(ChainvizError, match="at most ten updates a second"):
        ChainView(Sleep(0), interval=0.05)


def test_more_panels_can_be_added_below(recorded: Recorder) -> None:
    import ipywidgets

    view = ChainView(Sleep(0))
    panel = ipywidgets.Label("prompts")
    view.add_panel(panel)
    assert view.children[-1] is panel and view.children[-2] is view.live

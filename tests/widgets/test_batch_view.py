"""What a BatchView sends to the browser, without a kernel, and what it keeps in Python.

The comm of every widget is replaced by a recording one (see ``conftest.py``) and the
view's refresh throttle runs on a fake clock, so rates are counted on that clock.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from widget_fakes import FakeClock, Recorder, Sent

from chainviz import RunnableLambda
from chainviz.core.base import Runnable
from chainviz.core.run import Step
from chainviz.errors import ChainvizError, ConfigError, RunCancelled
from chainviz.widgets import BatchView
from chainviz.widgets.batchview import STATIC


class Held(Runnable[int, int]):
    """Returns its input at once, except negative inputs: those wait for ``gate`` (or Stop)."""

    kind = "function"

    def __init__(self, gate: threading.Event, name: str | None = None) -> None:
        self.gate = gate
        self.name = name
        self.waiting = 0
        self._lock = threading.Lock()

    def _call(self, input: int, step: Step) -> int:
        if input < 0:
            with self._lock:
                self.waiting += 1
        while input < 0 and not self.gate.wait(0.005):
            step.token.raise_if_cancelled(step.node_id)
        return input


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


def snapshots(recorded: Recorder, view: BatchView) -> list[tuple[Sent, dict[str, Any]]]:
    return [(m, m.data["state"]["snapshot"]) for m in recorded.updates(view.live.model_id)
            if "snapshot" in m.data["state"]]


def fails_on_three(x: int) -> int:
    if x % 10 == 3:
        raise ValueError(f"no luck with {x}")
    return x * 2


def test_the_widget_opens_with_its_files_and_an_idle_state(recorded: Recorder) -> None:
    view = BatchView(RunnableLambda(fails_on_three), range(12))
    opened = [m for m in recorded.messages
              if m.msg_type == "comm_open" and m.comm_id == view.live.model_id]
    assert len(opened) == 1
    state = opened[0].data["state"]
    assert state["_esm"] == (STATIC / "batchview.js").read_text()
    assert state["_css"] == (STATIC / "batchview.css").read_text()
    assert state["snapshot"]["status"] == "idle" and state["snapshot"]["total"] == 12
    assert "innerHTML" not in state["_esm"] and "http" not in state["_esm"]
    assert view.summary is None and view.results == [None] * 12 and view.records == {}


def test_a_run_sends_snapshots_at_most_ten_a_second_plus_a_final_one(
    recorded: Recorder, clock: FakeClock
) -> None:
    gate = threading.Event()
    inputs = list(range(30)) + [-1] * 10  # 30 finish at once, 10 wait for the gate
    held = Held(gate, name="held")
    view = BatchView(held, inputs, clock=clock)
    recorded.clear()
    future = view.start()
    wait_for(lambda: len(view.records) >= 30 and held.waiting == 10, "the items to start")

    clock.advance(0.5)
    # (The first snapshot may have gone out mid-way, when the refresh thread woke.)
    live = wait_for(lambda: [s for _, s in snapshots(recorded, view) if s["status"] == "running"
                             and s["done"] == 30 and s["in_flight"] == 10
                             and s["elapsed_s"] == pytest.approx(0.5)],
                    "a snapshot with the quick items done and the others in flight")
    assert live[0]["pending"] == 10
    assert live[0]["rate_overall"] == pytest.approx(30 / 0.5)
    assert [s["label"] for s in live[0]["steps"]] == ["held (whole chain)"]
    # Hold the clock still: no tick may publish, whatever happens.
    count = len(recorded.updates(view.live.model_id))
    time.sleep(0.35)
    assert len(recorded.updates(view.live.model_id)) == count

    gate.set()
    assert future.result(timeout=10) == inputs
    sent = snapshots(recorded, view)
    ticks = [m.at for m, _ in sent[:-1]]
    assert all(b - a >= 0.1 - 1e-9 for a, b in itertools.pairwise(ticks))
    assert len(sent) <= 0.5 / 0.1 + 2
    assert all(set(m.data["state"]) == {"snapshot"} for m, _ in sent)
    assert len(sent) == view._throttle.published
    final = sent[-1][1]
    assert final["status"] == "done" and final["run"] == 1
    assert (final["done"], final["finished"], final["in_flight"], final["pending"]) == (
        40, 40, 0, 0)
    assert final["steps"][0]["count"] == 40
    others = {tuple(m.data["state"]) for m in recorded.updates()
              if m.comm_id != view.live.model_id}
    assert others <= {("disabled",)}  # only the Stop button, at the start and the end


def test_run_blocks_and_keeps_results_records_and_summary(recorded: Recorder) -> None:
    chain = RunnableLambda(fails_on_three) | (lambda y: y + 1)
    view = BatchView(chain, range(25))
    results = view.run()
    assert results == view.results
    for index, result in enumerate(results):
        if index % 10 == 3:
            assert isinstance(result, ValueError) and str(result) == f"no luck with {index}"
        else:
            assert result == 2 * index + 1
    records = view.records
    assert list(records) == list(range(25))
    assert set(records[0].durations) == {"", "0", "1"} and set(records[3].durations) == {"", "0"}
    summary = view.summary
    assert summary is not None
    assert (summary.status, summary.done, summary.failed, summary.cancelled) == ("done", 22, 3, 0)
    assert summary.errors[0].type == "ValueError" and summary.errors[0].count == 3
    assert summary.errors[0].first_index == 3 and summary.errors[0].message == "no luck with 3"
    assert [s.id for s in summary.steps] == ["", "0", "1"]
    assert view.snapshot["errors"][0]["message"] == "no luck with 3"
    again = view.run()  # runs again, with fresh counts
    assert [repr(r) for r in again] == [repr(r) for r in results]
    assert view.snapshot["run"] == 2 and view.snapshot["finished"] == 25


def test_the_first_failure_stops_the_batch_when_exceptions_are_not_returned(
    recorded: Recorder,
) -> None:
    gate = threading.Event()
    chain = Held(gate) | RunnableLambda(lambda x: 1 // (x + 7))  # -7 divides by zero
    inputs = [-1] * 6 + [-7] + [-1] * 3
    view = BatchView(chain, inputs, return_exceptions=False)

    def fail_late() -> None:
        wait_for(lambda: view.snapshot.get("in_flight"), "items in flight")
        gate.set()

    threading.Thread(target=fail_late).start()
    with pytest.raises(ZeroDivisionError):
        view.run()
    assert view.snapshot["status"] == "error"
    results = view.results
    assert isinstance(results[6], ZeroDivisionError)
    assert all(r == 0 or isinstance(r, (RunCancelled, ZeroDivisionError)) for r in results)
    assert view.snapshot["finished"] == 10  # nothing lost


def test_stop_ends_a_background_batch_and_keeps_what_finished(recorded: Recorder) -> None:
    gate = threading.Event()
    view = BatchView(Held(gate), [1, 2, 3] + [-1] * 20)
    future = view.start()
    wait_for(lambda: len(view.records) == 3 and not view.stop_button.disabled, "the quick ones")
    assert view.running
    view.stop_button.click()
    assert view.wait(10) and not view.running
    results = future.result(timeout=1)
    assert results[:3] == [1, 2, 3]
    assert all(isinstance(r, RunCancelled) for r in results[3:])
    final = view.snapshot
    assert final["status"] == "cancelled" and (final["done"], final["cancelled"]) == (3, 20)
    assert view.stop_button.disabled and not view.stop()


def test_a_thread_pool_feeds_the_view_chunk_by_chunk_and_knows_items_in_flight(
    recorded: Recorder,
) -> None:
    gate = threading.Event()
    with cf.ThreadPoolExecutor(2) as pool:
        view = BatchView(Held(gate), [0, 1, 2, 3] + [-1] * 4, executor=pool, chunk_size=4)
        future = view.start()
        wait_for(lambda: view.snapshot["done"] == 4 and view.snapshot["in_flight"] == 4,
                 "one chunk back, one in flight")
        gate.set()
        assert future.result(timeout=10) == [0, 1, 2, 3, -1, -1, -1, -1]
    assert {r.worker.split(":")[-1] for r in view.records.values()} != {"MainThread"}


def test_the_static_picture_shows_the_last_state_and_escapes_markup(recorded: Recorder) -> None:
    payload = '<img src=x onerror="alert(1)">&'

    def fail(x: int) -> int:
        raise ValueError(payload)

    view = BatchView(RunnableLambda(fail, name=payload), range(4))
    view.run()
    bundle = view._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    svg = bundle["image/svg+xml"]
    ET.fromstring(svg)  # well-formed
    assert "<img" not in svg and "&lt;img src=x" in svg and "ValueError" in svg
    text = bundle["text/plain"]
    assert text.startswith("✓ done · 4 of 4 items")  # the batch ran; its items failed
    assert "4 of 4 items" in text and "ValueError ×4" in text and payload in text


def test_arguments_are_checked(recorded: Recorder) -> None:
    with pytest.raises(ChainvizError, match="at most ten updates a second"):
        BatchView(RunnableLambda(str), [1], interval=0.05)
    with pytest.raises(ConfigError, match="chunk_size"):
        BatchView(RunnableLambda(str), [1], chunk_size=0)
    with pytest.raises(ConfigError, match="executor must be"):
        BatchView(RunnableLambda(str), [1], executor=object()).run()
    view = BatchView(RunnableLambda(str), [1, 2])
    assert repr(view).startswith("<BatchView of") and "2 inputs" in repr(view)

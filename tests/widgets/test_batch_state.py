"""The batch view's state, folded from item records and worker announcements: pure."""

from __future__ import annotations

import random

import pytest

from chainviz.batching import ItemRecord
from chainviz.errors import RunCancelled, WorkerLost
from chainviz.widgets.batch_feed import BatchFeed
from chainviz.widgets.batch_state import (
    BatchState,
    outcome_of_announcement,
    outcome_of_record,
    percentile,
)

STEPS = [("", "whole chain"), ("0", "prompt"), ("1", "model")]


def ok(index: int, seconds: float = 0.1, worker: str = "h:1:t") -> ItemRecord:
    return ItemRecord(index, f"out {index}", None,
                      {"": seconds, "0": seconds / 10, "1": seconds * 0.9}, worker)


def bad(index: int, error: BaseException, worker: str = "h:1:t") -> ItemRecord:
    return ItemRecord(index, None, error, {"": 0.05, "0": 0.01}, worker)


def announced(record: ItemRecord) -> dict[str, object]:
    """What a Dask worker announces for ``record`` (see chainviz.batching.worker)."""
    error = record.error
    return {"index": record.index, "ok": record.ok,
            "error": None if error is None else f"{type(error).__name__}: {error}",
            "durations": dict(record.durations), "worker": record.worker}


def test_percentiles_interpolate_between_ranks_like_numpy() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 95) == 3.0
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile([1.0, 2.0], 0) == 1.0 and percentile([1.0, 2.0], 100) == 2.0


def test_counts_rates_and_step_percentiles_from_records() -> None:
    state = BatchState(10, steps=STEPS, window=2.0)
    state.begin(now=100.0)
    for i in range(6):
        state.add_record(ok(i, seconds=0.1 * (i + 1)), now=100.0 + i)  # one a second
    state.add_record(bad(6, ValueError("no luck")), now=106.0)
    state.add_record(bad(7, ValueError("other luck")), now=106.5)
    state.add_record(bad(8, KeyError("k")), now=106.5)
    state.add_record(ItemRecord(9, error=RunCancelled("stopped")), now=107.0)
    snap = state.snapshot(now=108.0)
    assert (snap["done"], snap["failed"], snap["cancelled"]) == (6, 3, 1)
    assert snap["finished"] == 10 and snap["pending"] == 0 and snap["in_flight"] is None
    assert snap["elapsed_s"] == 8.0
    assert snap["rate_overall"] == pytest.approx(10 / 8)
    # items finished in (106, 108]: 7, 8 at 106.5 and 9 at 107 — over a 2 s window
    assert snap["rate_window"] == pytest.approx(3 / 2)
    steps = {s["id"]: s for s in snap["steps"]}
    assert [s["id"] for s in snap["steps"]] == ["", "0", "1"]
    assert steps[""]["label"] == "whole chain" and steps[""]["depth"] == 0
    whole = sorted([0.1 * (i + 1) for i in range(6)] + [0.05] * 3)
    assert steps[""]["count"] == 9
    assert steps[""]["p50"] == pytest.approx(percentile(whole, 50))
    assert steps[""]["p95"] == pytest.approx(percentile(whole, 95))
    assert steps[""]["max"] == pytest.approx(0.6)
    assert steps["1"]["count"] == 6  # failed items never reached the model
    assert [s["index"] for s in snap["slowest"]] == [5, 4, 3, 2, 1]
    assert snap["errors"] == [
        {"type": "ValueError", "count": 2, "message": "no luck", "first_index": 6},
        {"type": "KeyError", "count": 1, "message": "'k'", "first_index": 8},
    ]
    assert [e["index"] for e in snap["recent_errors"]] == [8, 7, 6]  # newest first
    assert snap["workers"] == 1


def test_a_record_after_its_announcement_counts_once_and_late_announcements_change_nothing(
) -> None:
    state = BatchState(3, tracks_in_flight=True)
    state.begin(0.0)
    state.started([0, 1, 2])
    assert state.in_flight == 3
    first = ok(0)
    state.add_announcement(announced(first), 0.5)
    assert state.in_flight == 2 and state.finished == 1
    state.add_record(first, 0.6)  # the chunk came back: same outcome
    state.add_announcement(announced(first), 0.7)  # a late copy
    state.add_record(ok(1), 0.8)  # the record before its announcement
    state.add_announcement(announced(ok(1)), 0.9)
    snap = state.snapshot(1.0)
    assert (snap["done"], snap["finished"], snap["in_flight"], snap["pending"]) == (2, 2, 1, 1)
    assert snap["steps"][0]["count"] == 2  # the durations of each item once
    state.started([0, 1])  # a chunk run again after its worker died: finished items stay
    assert state.in_flight == 1


def test_a_record_that_contradicts_an_announcement_replaces_it() -> None:
    state = BatchState(1)
    state.begin(0.0)
    state.add_announcement(announced(bad(0, ValueError("flaky"))), 0.1)
    assert state.snapshot(0.2)["failed"] == 1
    state.add_record(ok(0, seconds=0.3), 0.4)
    snap = state.snapshot(0.5)
    assert (snap["done"], snap["failed"], snap["errors"], snap["recent_errors"]) == (1, 0, [], [])
    assert [s["count"] for s in snap["steps"]] == [1, 1, 1]
    assert snap["steps"][0]["max"] == pytest.approx(0.3)
    assert snap["slowest"] == [{"index": 0, "seconds": 0.3, "status": "done", "worker": "h:1:t"}]


def test_in_flight_of_a_local_run_counts_root_steps_started_and_not_ended() -> None:
    state = BatchState(4, tracks_in_flight=True)
    state.begin(0.0)
    for trace in (11, 12, 12, 13):  # 12 twice: a retry of the same item
        state.started_unindexed(trace)
    assert state.in_flight == 3
    state.ended_unindexed(12)  # ended; its record comes when the batch yields it
    assert state.in_flight == 2
    state.add_record(ok(2), 0.1)
    assert state.in_flight == 2 and state.finished == 1
    state.finish("done", 0.2)
    assert state.in_flight == 0


def test_announcements_carry_errors_as_text_and_cancellation_is_not_failure() -> None:
    lost = outcome_of_announcement(announced(bad(3, WorkerLost("gone: for good"))))
    assert (lost.status, lost.error_type, lost.error_message) == ("failed", "WorkerLost",
                                                                   "gone: for good")
    stopped = outcome_of_announcement(announced(bad(4, RunCancelled("stopped"))))
    assert stopped.status == "cancelled"
    assert outcome_of_record(ItemRecord(5, error=RunCancelled("x"))).status == "cancelled"
    assert outcome_of_record(ok(6)).durations[""] == 0.1


def test_long_messages_are_clipped_and_markup_is_kept_as_text() -> None:
    state = BatchState(1)
    state.begin(0.0)
    state.add_record(bad(0, ValueError("<b>" + "x" * 1000)), 0.1)
    message = state.snapshot(0.2)["errors"][0]["message"]
    assert message.startswith("<b>x") and len(message) == 300 and message.endswith("…")


def test_the_window_rate_follows_the_recent_pace_and_freezes_when_the_batch_ends() -> None:
    state = BatchState(1000, window=1.0)
    state.begin(0.0)
    now = 0.0
    for i in range(100):  # 100 items a second for a second
        now += 0.01
        state.add_record(ok(i), now)
    for i in range(100, 110):  # then 10 a second
        now += 0.1
        state.add_record(ok(i), now)
    window, overall = state.rates(now)
    assert window == pytest.approx(10.0, rel=0.11)
    assert overall == pytest.approx(110 / now)
    state.finish("cancelled", now)
    assert state.rates(now + 50) == (window, overall)
    assert state.summary(now + 50).wall_s == pytest.approx(now)


def test_summary_and_a_shuffled_order_agree() -> None:
    records = [ok(i, seconds=0.01 * (i % 7 + 1)) for i in range(50)]
    records += [bad(i, ValueError(f"v{i}")) for i in range(50, 60)]
    shuffled = records[:]
    random.Random(4).shuffle(shuffled)
    results = []
    for order in (records, shuffled):
        state = BatchState(60, steps=STEPS)
        state.begin(0.0)
        for n, record in enumerate(order):
            state.add_record(record, 0.01 * n)
        state.finish("done", 1.0)
        results.append(state.summary(2.0))
    plain, mixed = results
    assert (plain.done, plain.failed, plain.cancelled, plain.finished) == (50, 10, 0, 60)
    assert plain.steps == mixed.steps and plain.status == "done" and plain.wall_s == 1.0
    assert plain.errors[0].count == 10 and plain.throughput == pytest.approx(60.0)


def test_idle_state_has_no_rates() -> None:
    state = BatchState(5)
    snap = state.snapshot(3.0)
    assert snap["status"] == "idle" and snap["rate_window"] is None and snap["elapsed_s"] == 0
    with pytest.raises(ValueError, match="window"):
        BatchState(5, window=0)


class FakeClient:
    """What BatchFeed.subscribe uses of a Dask client."""

    def __init__(self) -> None:
        self.handlers: dict[str, object] = {}
        self.unsubscribed: list[str] = []

    def subscribe_topic(self, topic: str, handler: object) -> None:
        self.handlers[topic] = handler

    def unsubscribe_topic(self, topic: str) -> None:
        self.unsubscribed.append(topic)  # as Dask: the handler stays in the client


def test_the_feed_folds_what_arrived_in_order_and_closed_handlers_drop_late_events() -> None:
    now = [10.0]
    marks: list[int] = []
    feed = BatchFeed(lambda: now[0], lambda: marks.append(1))
    client = FakeClient()
    unsubscribe = feed.subscribe(client, "t")
    assert set(client.handlers) == {"t", "t.started"}
    client.handlers["t.started"]((0.0, {"indices": [0, 1], "worker": "h:1:t"}))  # type: ignore[operator]
    now[0] = 11.0
    client.handlers["t"]((0.0, announced(ok(0))))  # type: ignore[operator]
    now[0] = 12.0
    feed.push("record", ok(0))
    state = BatchState(2, tracks_in_flight=True)
    state.begin(10.0)
    feed.drain_into(state)
    assert not feed.queue and len(marks) == 3
    assert (state.finished, state.in_flight) == (1, 1)
    assert state.rates(12.0)[1] == pytest.approx(1 / 2)  # finished at 11.0, when announced
    unsubscribe()
    assert sorted(client.unsubscribed) == ["t", "t.started"]
    client.handlers["t"]((0.0, announced(ok(1))))  # type: ignore[operator]
    assert not feed.queue

"""The refresh throttle: at most one publication per interval of its (fake) clock, only
when something changed, and always a final one."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from widget_fakes import FakeClock

from chainviz.widgets.throttle import RefreshTimer, Throttle


def make(clock: FakeClock) -> tuple[Throttle[int], list[tuple[float, int]]]:
    sent: list[tuple[float, int]] = []
    renders = iter(range(1, 10_000))
    throttle: Throttle[int] = Throttle(
        lambda: next(renders), lambda value: sent.append((clock(), value)), clock=clock
    )
    return throttle, sent


def test_nothing_is_sent_until_something_changes(clock: FakeClock) -> None:
    throttle, sent = make(clock)
    for _ in range(5):
        clock.advance(1.0)
        assert throttle.tick() is False
    assert sent == []


def test_a_burst_of_changes_is_sent_once_per_interval(clock: FakeClock) -> None:
    throttle, sent = make(clock)
    for _ in range(200):  # 200 ticks, 10 ms apart on the fake clock, each after changes
        for _ in range(50):
            throttle.mark()
        throttle.tick()
        clock.advance(0.01)
    assert 19 <= len(sent) <= 20  # two seconds: at most ten a second
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= 0.1 - 1e-9
    assert throttle.published == len(sent)
    assert throttle.snapshot == sent[-1][1]  # the cache is what was last sent


def test_the_final_flush_is_sent_even_within_the_interval(clock: FakeClock) -> None:
    throttle, sent = make(clock)
    throttle.mark()
    assert throttle.tick()
    throttle.mark()
    clock.advance(0.01)
    assert not throttle.tick()
    throttle.flush()
    assert [value for _, value in sent] == [1, 2]
    assert not throttle.dirty


def test_the_interval_must_be_positive(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="above 0"):
        Throttle(lambda: 0, lambda v: None, interval=0, clock=clock)


def test_the_timer_ticks_on_its_thread_and_flushes_once_when_stopped() -> None:
    sent: list[str] = []
    ticked = threading.Event()

    def publish(value: str) -> None:
        sent.append(threading.current_thread().name)
        ticked.set()

    throttle: Throttle[str] = Throttle(lambda: "x", publish, interval=0.1)
    timer = RefreshTimer(throttle)
    for _ in range(2):  # a timer starts and stops once per run, on one shared thread
        sent.clear()
        ticked.clear()
        timer.start()
        throttle.mark()
        assert ticked.wait(5.0)
        timer.stop()
        assert not timer.running
        assert sent[0] == "chainviz-refresh"
        assert sent[-1] == threading.current_thread().name  # the final flush, by the stopper
        count = len(sent)
        throttle.mark()
        time.sleep(0.25)
        assert len(sent) == count  # nothing ticks after stop


def test_flush_first_publishes_from_the_ticking_thread_at_once() -> None:
    sent: list[str] = []
    first = threading.Event()

    def publish(value: str) -> None:
        sent.append(threading.current_thread().name)
        first.set()

    timer = RefreshTimer(Throttle(lambda: "x", publish, interval=0.1))
    timer.start(flush_first=True)
    assert first.wait(5.0)
    timer.stop(flush=False)
    assert sent == ["chainviz-refresh"]

"""The shared thread pool: tasks are never stranded, the ceiling holds, idle threads
retire. Shown with barriers and events, not wall-clock thresholds."""

from __future__ import annotations

import threading
import time

from chainviz.core.pool import ThreadPool

WAIT = 10.0  # seconds a test waits for something that should happen at once


def wait_until(condition: object, timeout: float = WAIT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.005)
    return False


def test_submit_many_runs_every_task_at_once() -> None:
    pool = ThreadPool()
    size = 64
    barrier = threading.Barrier(size + 1, timeout=WAIT)
    assert pool.submit_many(barrier.wait, size) == size
    barrier.wait()  # every task is running at the same time
    # Idle threads are reused: a second round starts no new thread.
    assert wait_until(lambda: pool.idle_count == size)
    threads = pool.thread_count
    barrier.reset()
    assert pool.submit_many(barrier.wait, size) == size
    barrier.wait()
    assert pool.thread_count == threads


def test_a_full_pool_says_so_and_still_runs_what_waits() -> None:
    pool = ThreadPool(max_threads=2)
    release = threading.Event()
    done: list[int] = []
    lock = threading.Lock()

    def task() -> None:
        release.wait(WAIT)
        with lock:
            done.append(1)

    assert pool.submit_many(task, 5) == 2  # two threads take tasks, three wait
    assert not pool.submit(task)
    assert pool.thread_count == 2
    release.set()
    assert wait_until(lambda: len(done) == 6)


def test_idle_threads_retire_and_the_pool_grows_again() -> None:
    pool = ThreadPool(idle_seconds=0.02)
    ran = threading.Event()
    assert pool.submit_many(lambda: None, 8) == 8
    assert wait_until(lambda: pool.thread_count == 0)
    assert pool.submit(ran.set)
    assert ran.wait(WAIT)


def test_no_task_is_stranded_while_threads_retire() -> None:
    # Threads time out while tasks arrive: every task must still run.
    pool = ThreadPool(idle_seconds=0.001)
    count = 0
    lock = threading.Lock()

    def task() -> None:
        nonlocal count
        with lock:
            count += 1

    submitted = 0
    for round_ in range(200):
        batch = 1 + round_ % 5
        pool.submit_many(task, batch)
        submitted += batch
        if round_ % 7 == 0:
            time.sleep(0.002)  # let idle threads reach their timeout
    assert wait_until(lambda: count == submitted)

"""Statistics of traces: exact numbers from hand-written event timestamps."""

from __future__ import annotations

import pytest
from trace_fakes import MS, EventScript, Sleep, parallel_script

from chainviz import RunnableLambda, RunnableParallel
from chainviz.trace import Recorder, stats


def test_a_parallel_costs_its_slowest_branch() -> None:
    script, _ = parallel_script()
    trace = script.trace()
    assert stats.wall_time(trace) == pytest.approx(0.082)
    assert stats.branches(trace) == ["fast", "slow"]
    assert stats.branch_latencies(trace) == {
        "fast": pytest.approx(0.030), "slow": pytest.approx(0.080)
    }
    assert stats.branch_sum(trace) == pytest.approx(0.110)
    assert stats.speedup(trace) == pytest.approx(0.110 / 0.082)
    assert stats.critical_path(trace) == ["", "slow", "slow/0", "slow/1"]
    summary = stats.summarize(trace)
    assert summary.speedup == stats.speedup(trace)
    assert summary.critical_path == trace.critical_path()


def test_node_summaries_have_the_graph_layers_shape() -> None:
    script, _ = parallel_script()
    summaries = script.trace().node_summaries()
    assert list(summaries) == ["", "fast", "slow", "slow/0", "slow/1"]
    assert summaries["slow/1"] == {"status": "done", "latency_s": pytest.approx(0.069), "tokens": 2}
    for summary in summaries.values():
        assert set(summary) == {"status", "latency_s", "tokens"}
        assert isinstance(summary["tokens"], int)


def test_a_sequence_costs_the_sum_of_its_steps() -> None:
    s = EventScript()
    root = s.start("", "sequence", 0)
    a = s.start("0", "prompt", 0, root)
    s.end(a, 10 * MS)
    b = s.start("1", "model", 10 * MS, root)
    s.end(b, 40 * MS)
    c = s.start("2", "parser", 40 * MS, root)
    s.end(c, 50 * MS)
    s.end(root, 50 * MS)
    trace = s.trace()
    assert stats.branches(trace) == ["0", "1", "2"]
    assert stats.branch_sum(trace) == pytest.approx(0.050)
    assert stats.speedup(trace) == pytest.approx(1.0)
    assert stats.critical_path(trace) == ["", "0", "1", "2"]


def test_the_branches_of_a_parallel_inside_a_sequence() -> None:
    # {"context": retriever, "question": passthrough} | prompt | model
    s = EventScript()
    root = s.start("", "sequence", 0)
    fan = s.start("0", "parallel", 0, root)
    context = s.start("0/context", "retriever", 1 * MS, fan)
    question = s.start("0/question", "passthrough", 1 * MS, fan)
    s.end(question, 2 * MS)
    s.end(context, 20 * MS)
    s.end(fan, 21 * MS)
    prompt = s.start("1", "prompt", 21 * MS, root)
    s.end(prompt, 22 * MS)
    s.end(root, 22 * MS)
    trace = s.trace()
    assert stats.branches(trace) == ["0/context", "0/question"]
    assert stats.critical_path(trace) == ["", "0", "0/context", "1"]


def test_a_failed_parallel_is_bounded_by_the_branch_that_failed() -> None:
    s = EventScript()
    root = s.start("", "parallel", 0)
    ok = s.start("ok", "function", 0, root)
    bad = s.start("bad", "function", 0, root)
    slow = s.start("slow", "function", 0, root)
    s.end(ok, 5 * MS)
    s.error(bad, 10 * MS, ValueError("no"))
    s.cancel(slow, 11 * MS, "sibling 'bad' failed")  # cancelled after the failure
    s.error(root, 11 * MS, ValueError("no"))
    trace = s.trace()
    assert stats.critical_path(trace) == ["", "bad"]
    summaries = trace.node_summaries()
    assert [summaries[n]["status"] for n in ("", "ok", "bad", "slow")] == [
        "error", "done", "error", "cancelled"
    ]


def test_a_running_branch_has_no_latency_and_bounds_the_path() -> None:
    s = EventScript()
    root = s.start("", "parallel", 0)
    done = s.start("done", "function", 0, root)
    busy = s.start("busy", "function", 0, root)
    s.end(done, 5 * MS)
    trace = s.trace()
    assert stats.wall_time(trace) is None
    assert stats.branch_latencies(trace) == {"done": pytest.approx(0.005), "busy": None}
    assert stats.branch_sum(trace) is None
    assert stats.speedup(trace) is None
    assert stats.critical_path(trace) == ["", "busy"]
    assert trace.snapshot_ns == 5 * MS
    del busy


def test_a_single_step_is_its_own_branch() -> None:
    s = EventScript()
    root = s.start("", "function", 0)
    s.end(root, 3 * MS)
    trace = s.trace()
    assert stats.branches(trace) == [""]
    assert stats.speedup(trace) == pytest.approx(1.0)
    assert stats.critical_path(trace) == [""]


def test_nested_parallels_follow_the_last_to_end_at_each_level() -> None:
    s = EventScript()
    root = s.start("", "parallel", 0)
    left = s.start("left", "parallel", 0, root)
    right = s.start("right", "function", 0, root)
    ll = s.start("left/a", "function", 0, left)
    lr = s.start("left/b", "function", 0, left)
    s.end(ll, 40 * MS)
    s.end(lr, 10 * MS)
    s.end(left, 41 * MS)
    s.end(right, 30 * MS)
    s.end(root, 42 * MS)
    trace = s.trace()
    assert stats.branches(trace) == ["left", "right"]
    assert stats.critical_path(trace) == ["", "left", "left/a"]
    assert stats.node_latencies(trace)["left/b"] == pytest.approx(0.010)


def test_a_retried_node_spans_all_its_attempts() -> None:
    s = EventScript()
    root = s.start("", "sequence", 0)
    first = s.start("0", "model", 0, root)
    s.error(first, 5 * MS, ConnectionError("flaky"))
    second = s.start("0", "model", 15 * MS, root)
    s.end(second, 20 * MS)
    s.end(root, 20 * MS)
    trace = s.trace()
    assert stats.node_latencies(trace)["0"] == pytest.approx(0.020)
    assert trace.node_summaries()["0"]["status"] == "done"
    assert stats.critical_path(trace) == ["", "0"]


def test_a_real_parallel_of_sleeps_overlaps_so_its_speedup_exceeds_one() -> None:
    recorder = Recorder()
    chain = RunnableParallel(
        a=Sleep(0.03), b=Sleep(0.03), c=RunnableLambda(lambda x: x) | Sleep(0.03)
    )
    chain.invoke(None, {"callbacks": [recorder]})
    trace = recorder.last
    runs = [trace.node(n) for n in stats.branches(trace)]
    latest_start = max(r.start_ns for r in runs)
    earliest_end = min(r.end_ns or 0 for r in runs)
    assert latest_start < earliest_end  # all three were running at one moment
    speedup = stats.speedup(trace)
    assert speedup is not None and speedup > 1

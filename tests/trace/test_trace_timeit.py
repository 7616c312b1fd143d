"""chainviz.timeit: IPython's %timeit text, statistics from a fake clock, comparisons."""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from trace_fakes import FakeClock, VirtualClock

import chainviz
from chainviz import RunnableLambda, RunnableParallel
from chainviz.core import events
from chainviz.trace import TimeitComparison, TimeitResult, Timings, atimeit, timeit
from chainviz.trace import timing as timing_module

PER_LOOP = " per loop (mean \u00b1 std. dev. of 7 runs, 1 loop each)"
WARNING = (
    "The slowest run took {:0.2f} times longer than the fastest. "
    "This could mean that an intermediate result is being cached."
)


def _identity(x: Any) -> Any:
    return x


def _timeit(mode: str, target: Any, input: Any, **kwargs: Any) -> Any:
    if mode == "sync":
        return timeit(target, input, **kwargs)
    return asyncio.run(atimeit(target, input, **kwargs))


def _runs(mean: float, std: float) -> tuple[float, ...]:
    """Seven runs with exactly this mean and (population) standard deviation."""
    d = std * math.sqrt(7 / 6)
    return (mean - d,) * 3 + (mean,) + (mean + d,) * 3


@pytest.mark.parametrize(
    ("mean", "std", "line"),
    [  # the three timings on the seed page
        (0.958, 0.402, "958 ms \u00b1 402 ms" + PER_LOOP),
        (1.22, 0.508, "1.22 s \u00b1 508 ms" + PER_LOOP),
        (1.15, 0.119, "1.15 s \u00b1 119 ms" + PER_LOOP),
    ],
)
def test_the_text_is_ipythons_timeit_line(mean: float, std: float, line: str) -> None:
    result = TimeitResult(_runs(mean, std))
    assert result.average == pytest.approx(mean)
    assert result.stdev == pytest.approx(std)
    assert str(result) == line == repr(result)
    assert result._repr_mimebundle_()["text/plain"] == line


@pytest.mark.parametrize(
    "runs",
    [(0.5, 1.5), (1.0,), (2e-6, 3e-6, 2.5e-6), (0.1, 0.9, 0.1, 0.1), (61.0, 65.0), (0.0, 0.0)],
)
def test_the_text_matches_ipythons_timeit_result(runs: tuple[float, ...]) -> None:
    execution = pytest.importorskip("IPython.core.magics.execution")
    with contextlib.redirect_stdout(io.TextIOWrapper(io.BytesIO(), encoding="utf-8")):
        theirs = str(execution.TimeitResult(1, len(runs), min(runs), max(runs), list(runs), 0, 3))
    assert TimeitResult(runs).line == theirs


def test_statistics_come_from_the_injected_clock(mode: str) -> None:
    clock = FakeClock([1.0, 1.5, 0.5, 1.0, 2.0, 1.0, 1.0])
    result = _timeit(mode, RunnableLambda(_identity), 1, clock=clock)
    assert isinstance(result, TimeitResult)
    assert result.all_runs == pytest.approx((1.0, 1.5, 0.5, 1.0, 2.0, 1.0, 1.0))
    assert result.average == pytest.approx(8 / 7)
    variance = sum((x - 8 / 7) ** 2 for x in result.all_runs) / 7
    assert result.stdev == pytest.approx(math.sqrt(variance))
    assert (result.best, result.worst) == (pytest.approx(0.5), pytest.approx(2.0))
    assert result.repeat == 7 and result.loops == 1
    assert clock.reads == 14  # twice per timed run; the warm-up run is not timed
    assert len(result.traces) == 7
    assert result.warning is None


def test_a_slow_outlier_brings_ipythons_warning(mode: str) -> None:
    clock = FakeClock([1.0, 1.0, 1.0, 5.0])
    result = _timeit(mode, RunnableLambda(_identity), 1, repeat=4, warmup=0, clock=clock)
    warning = WARNING.format(5.0)
    assert result.warning == warning
    assert str(result).splitlines() == [warning, result.line]


@pytest.mark.parametrize(
    ("runs", "warns"),
    [((1.0, 4.0), False), ((1.0, 4.01), True), ((0.0, 1.0), False), ((1e-7, 9e-7), False)],
)
def test_the_warning_needs_more_than_four_times(runs: tuple[float, ...], warns: bool) -> None:
    assert (TimeitResult(runs).warning is not None) is warns


def test_per_node_statistics_use_the_core_clock(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = VirtualClock()
    monkeypatch.setattr(events, "clock", clock.ns)
    chain = clock.step("prompt", 0.25) | clock.step("model", 0.5, 1.0, 1.5, 2.0)
    result = _timeit(mode, chain, "bear", repeat=3, warmup=1, clock=clock.seconds)
    assert result.all_runs == pytest.approx((1.25, 1.75, 2.25))  # the warm-up took 0.75
    nodes = result.nodes
    assert set(nodes) == {"", "0", "1"}
    assert nodes["0"].all_runs == pytest.approx((0.25,) * 3)
    assert nodes["1"].all_runs == pytest.approx((1.0, 1.5, 2.0))
    assert nodes[""].average == pytest.approx(1.75)
    assert list(result.branches) == ["0", "1"]
    assert result.branches["1"].best == pytest.approx(1.0)
    assert result.speedups == pytest.approx((1.0, 1.0, 1.0))


def test_a_mapping_compares_chains_by_name(mode: str) -> None:
    joke = RunnableLambda(_identity) | RunnableLambda(_identity, name="model")
    poem = RunnableLambda(_identity) | RunnableLambda(_identity, name="model")
    map_chain = RunnableParallel(joke=joke, poem=poem)
    steps = [0.9, 1.0, 1.1, 1.1, 1.3, 1.2, 1.0, 1.2, 1.1]  # joke, poem, map: 3 runs each
    result = _timeit(
        mode, {"joke": joke, "poem": poem, "map": map_chain}, {"topic": "bear"},
        repeat=3, clock=FakeClock(steps),
    )
    assert isinstance(result, TimeitComparison)
    assert list(result) == ["joke", "poem", "map"] and len(result) == 3
    assert result["joke"].average == pytest.approx(1.0)
    assert result["poem"].average == pytest.approx(1.2)
    assert result["map"].average == pytest.approx(1.1)
    assert result.fastest == "joke"
    assert result["joke"].name == "joke"
    assert list(result["map"].branches) == ["joke", "poem"]  # the parallel's branches
    assert list(result["joke"].branches) == ["0", "1"]  # a sequence's steps
    assert str(result).splitlines() == [
        "joke: " + result["joke"].line,
        "poem: " + result["poem"].line,
        "map:  " + result["map"].line,
    ]
    assert result["poem"].line.startswith("1.2 s \u00b1 81.6 ms per loop")


def test_a_comparison_warns_per_chain() -> None:
    result = timeit(
        {"steady": RunnableLambda(_identity), "jumpy": RunnableLambda(_identity)}, 0,
        repeat=2, warmup=0, clock=FakeClock([1.0, 1.0, 1.0, 9.0]),
    )
    assert str(result).splitlines() == [
        "steady: " + result["steady"].line,
        "jumpy:  " + WARNING.format(9.0),
        "jumpy:  " + result["jumpy"].line,
    ]


def test_the_seed_timings_come_from_one_call() -> None:
    joke_chain = RunnableLambda(lambda d: f"joke about {d['topic']}") | RunnableLambda(_identity)
    poem_chain = RunnableLambda(lambda d: f"poem about {d['topic']}") | RunnableLambda(_identity)
    map_chain = RunnableParallel(joke=joke_chain, poem=poem_chain)
    result = chainviz.timeit(
        {"joke": joke_chain, "poem": poem_chain, "map": map_chain}, {"topic": "bear"}
    )
    assert chainviz.timeit is timing_module.timeit and chainviz.atimeit is timing_module.atimeit
    assert [len(result[name].all_runs) for name in result] == [7, 7, 7]
    assert result["map"].traces[0].output == {"joke": "joke about bear", "poem": "poem about bear"}
    for name in ("joke", "poem", "map"):
        assert result[name].line.endswith(PER_LOOP)
        assert f"{name}: ".ljust(6) + result[name].line in str(result).splitlines()


def test_user_config_and_callbacks_are_kept() -> None:
    seen: list[Any] = []
    result = timeit(
        RunnableLambda(_identity), 1, repeat=2, warmup=1,
        config={"callbacks": [seen.append], "tags": ["t"]},
    )
    assert len(result.traces) == 2
    assert len(seen) == 3 * 2  # start and end of each of the three runs


def test_dicts_inside_the_mapping_are_parallels() -> None:
    result = timeit({"fan": {"a": _identity, "b": _identity}}, 1, repeat=1, warmup=0)
    assert result["fan"].traces[0].output == {"a": 1, "b": 1}


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"repeat": 0}, ValueError, "repeat"),
        ({"repeat": True}, ValueError, "repeat"),
        ({"warmup": -1}, ValueError, "warmup"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        timeit(RunnableLambda(_identity), 1, **kwargs)


def test_bad_targets_are_refused() -> None:
    with pytest.raises(ValueError, match="empty mapping"):
        timeit({}, 1)
    with pytest.raises(TypeError, match="keys must be strings"):
        timeit({1: RunnableLambda(_identity)}, 1)


def test_failures_propagate() -> None:
    def broken(x: Any) -> Any:
        raise RuntimeError("down")

    with pytest.raises(RuntimeError, match="down"):
        timeit(RunnableLambda(broken), 1)


def test_timings_of_nothing_are_refused() -> None:
    with pytest.raises(ValueError):
        Timings(())


# --------------------------------------------------------------------------- chart

SVG = "{http://www.w3.org/2000/svg}"


def test_the_chart_shows_each_chain_and_its_branches() -> None:
    joke = RunnableLambda(_identity) | RunnableLambda(_identity)
    result = timeit(
        {"joke": joke, "<script>map": RunnableParallel(a=joke, b=joke)}, 1,
        repeat=3, warmup=0, clock=FakeClock([1.0, 2.0, 1.5, 1.0, 1.2, 5.0]),
    )
    bundle = result._repr_mimebundle_()
    assert bundle["text/plain"] == str(result)
    root = ET.fromstring(bundle["image/svg+xml"])
    tags = {element.tag.removeprefix(SVG) for element in root.iter()}
    assert "script" not in tags
    texts = [element.text or "" for element in root.iter(f"{SVG}text")]
    assert "joke" in texts and "<script>map" in texts
    assert "0 _identity" in texts and "a RunnableSequence" in texts
    # one dot per run: 3 per chain row, 3 per branch row (2 chains × (1 + 2 branches))
    assert len(list(root.iter(f"{SVG}circle"))) == 3 * 6
    assert any(text.startswith("<script>map: The slowest run took") for text in texts)
    single = result["joke"]._repr_mimebundle_()
    ET.fromstring(single["image/svg+xml"])

"""``%timeit`` for chains: ``chainviz.timeit(chain, input)``, or several chains compared.

``timeit(target, input)`` runs ``target`` ``warmup`` times untimed, then ``repeat``
times timed, each run with a :class:`~chainviz.trace.recorder.Recorder`, so the
result has the wall times (``all_runs``, ``average``, ``stdev``, ``best``,
``worst``) and per-node and per-branch statistics. A mapping of names to runnables
means "compare these" (not a parallel): each is timed in turn and the result maps
each name to its timing::

    chainviz.timeit({"joke": joke_chain, "poem": poem_chain, "map": map_chain},
                    {"topic": "bear"})

Text is IPython's format (``1.15 s ± 119 ms per loop (mean ± std. dev. of 7 runs,
1 loop each)``, with its warning when the slowest run took over 4× the fastest);
in a notebook it is a chart. The clock is a parameter (``clock=``), read just
before and just after each timed run, so tests can pass a fake one.

The measuring is written once, as a generator of requests; :func:`timeit` and
:func:`atimeit` only differ in calling ``invoke`` or awaiting ``ainvoke``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, overload

from chainviz.core.base import Runnable
from chainviz.core.coerce import coerce_to_runnable
from chainviz.core.config import RunnableConfig, validate_config
from chainviz.trace import stats
from chainviz.trace.model import Trace
from chainviz.trace.recorder import Recorder
from chainviz.trace.timefmt import mean_pm_std

__all__ = ["TimeitComparison", "TimeitResult", "Timings", "atimeit", "timeit"]

Clock = Callable[[], float]

#: IPython warns when the slowest run took more than this many times the fastest.
SLOW_RATIO = 4.0


@dataclass(frozen=True)
class Timings:
    """Seconds of repeated runs, and their statistics (std. dev. over the runs, as ``%timeit``)."""

    all_runs: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.all_runs:
            raise ValueError("Timings need at least one run.")

    @property
    def repeat(self) -> int:
        return len(self.all_runs)

    @property
    def average(self) -> float:
        return math.fsum(self.all_runs) / len(self.all_runs)

    @property
    def stdev(self) -> float:
        mean = self.average
        return math.sqrt(math.fsum((x - mean) ** 2 for x in self.all_runs) / len(self.all_runs))

    @property
    def best(self) -> float:
        return min(self.all_runs)

    @property
    def worst(self) -> float:
        return max(self.all_runs)

    def __str__(self) -> str:
        return mean_pm_std(self.average, self.stdev)


@dataclass(frozen=True, eq=False)
class TimeitResult(Timings):
    """The timing of one chain: wall seconds per run, and the trace of each run."""

    name: str | None = None
    traces: tuple[Trace, ...] = ()
    loops: int = 1

    @property
    def line(self) -> str:
        """``958 ms ± 402 ms per loop (mean ± std. dev. of 7 runs, 1 loop each)``."""
        runs, loops = self.repeat, self.loops
        return (
            f"{mean_pm_std(self.average, self.stdev)} per loop (mean \u00b1 std. dev. of "
            f"{runs} run{'' if runs == 1 else 's'}, {loops:,} loop{'' if loops == 1 else 's'} each)"
        )

    @property
    def warning(self) -> str | None:
        """IPython's caching warning, when the slowest run took over 4× the fastest."""
        best, worst = self.best, self.worst
        if worst > SLOW_RATIO * best and best > 0 and worst > 1e-6:
            return (
                f"The slowest run took {worst / best:0.2f} times longer than the fastest. "
                "This could mean that an intermediate result is being cached."
            )
        return None

    def lines(self, prefix: str = "") -> list[str]:
        """The warning (if any) and the result line, each after ``prefix``."""
        warning = self.warning
        return ([prefix + warning] if warning else []) + [prefix + self.line]

    @property
    def nodes(self) -> dict[str, Timings]:
        """Latency of every node over the runs it took part in."""
        return _per_node(stats.node_latencies(trace) for trace in self.traces)

    @property
    def branches(self) -> dict[str, Timings]:
        """Latency of each branch (children of the top-level parallel, or sequence steps)."""
        return _per_node(stats.branch_latencies(trace) for trace in self.traces)

    @property
    def speedups(self) -> tuple[float, ...]:
        """Branch sum / wall time, per run (about N for N equal parallel branches)."""
        found = (stats.speedup(trace) for trace in self.traces)
        return tuple(s for s in found if s is not None)

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return str(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from chainviz.trace.timing_chart import timing_svg

        return {"text/plain": str(self), "image/svg+xml": timing_svg({self.name or "": self})}


def _per_node(latencies: Iterator[dict[str, float | None]]) -> dict[str, Timings]:
    collected: dict[str, list[float]] = {}
    for run in latencies:
        for node_id, seconds in run.items():
            if seconds is not None:
                collected.setdefault(node_id, []).append(seconds)
    return {node_id: Timings(tuple(values)) for node_id, values in collected.items()}


class TimeitComparison(Mapping[str, TimeitResult]):
    """Timings of several chains: ``result["joke"].average``; one line per chain as text."""

    def __init__(self, results: Mapping[str, TimeitResult]) -> None:
        self._results = dict(results)

    def __getitem__(self, name: str) -> TimeitResult:
        return self._results[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)

    @property
    def fastest(self) -> str:
        """The name with the lowest average."""
        return min(self._results, key=lambda name: self._results[name].average)

    def __str__(self) -> str:
        width = max(len(name) for name in self._results) + 2
        return "\n".join(
            line
            for name, result in self._results.items()
            for line in result.lines(f"{name}:".ljust(width))
        )

    def __repr__(self) -> str:
        return str(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from chainviz.trace.timing_chart import timing_svg

        return {"text/plain": str(self), "image/svg+xml": timing_svg(self._results)}


# ------------------------------------------------------------------------ measuring


@dataclass(frozen=True, slots=True)
class _Request:
    """Run ``runnable`` once with ``config``; ``timed`` says whether the clock is read."""

    runnable: Runnable[Any, Any]
    config: RunnableConfig
    timed: bool


def _targets(target: Any) -> dict[str | None, Runnable[Any, Any]]:
    if isinstance(target, Mapping) and not isinstance(target, Runnable):
        if not target:
            raise ValueError(
                "timeit was given an empty mapping; give a runnable or {name: runnable}."
            )
        named: dict[str | None, Runnable[Any, Any]] = {}
        for name, runnable in target.items():
            if not isinstance(name, str):
                raise TypeError(
                    f"timeit compares chains by name, so the mapping's keys must be strings, "
                    f"but {name!r} ({type(name).__name__}) was given."
                )
            named[name] = coerce_to_runnable(runnable, where=f"timeit entry {name!r}")
        return named
    return {None: coerce_to_runnable(target, where="timeit")}


def _with_recorder(config: RunnableConfig, recorder: Recorder) -> RunnableConfig:
    merged = dict(config)
    merged["callbacks"] = [*config.get("callbacks", ()), recorder]
    return merged  # type: ignore[return-value]


def _measure(
    targets: dict[str | None, Runnable[Any, Any]],
    repeat: int,
    warmup: int,
    config: RunnableConfig,
) -> Generator[_Request, float, TimeitResult | TimeitComparison]:
    """Ask for each run in turn; receive its seconds; return the result."""
    results: dict[str | None, TimeitResult] = {}
    for name, runnable in targets.items():
        for _ in range(warmup):
            yield _Request(runnable, _with_recorder(config, Recorder()), timed=False)
        seconds: list[float] = []
        traces: list[Trace] = []
        for _ in range(repeat):
            recorder = Recorder()
            seconds.append((yield _Request(runnable, _with_recorder(config, recorder), timed=True)))
            traces.extend(recorder.traces[-1:])
        results[name] = TimeitResult(tuple(seconds), name=name, traces=tuple(traces))
    if None in results:
        return results[None]
    return TimeitComparison({name: r for name, r in results.items() if name is not None})


def _check(repeat: int, warmup: int) -> None:
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be a positive int (runs to time), but {repeat!r} was given.")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an int of 0 or more, but {warmup!r} was given.")


@overload
def timeit(
    target: Mapping[str, Any],
    input: Any,
    repeat: int = ...,
    warmup: int = ...,
    config: RunnableConfig | None = ...,
    *,
    clock: Clock = ...,
) -> TimeitComparison: ...


@overload
def timeit(
    target: Runnable[Any, Any] | Callable[..., Any],
    input: Any,
    repeat: int = ...,
    warmup: int = ...,
    config: RunnableConfig | None = ...,
    *,
    clock: Clock = ...,
) -> TimeitResult: ...


def timeit(
    target: Any,
    input: Any,
    repeat: int = 7,
    warmup: int = 1,
    config: RunnableConfig | None = None,
    *,
    clock: Clock = time.perf_counter,
) -> TimeitResult | TimeitComparison:
    """Time ``target.invoke(input)``: a :class:`TimeitResult`, or for a mapping of names to
    runnables a :class:`TimeitComparison` (``result["joke"].average``)."""
    _check(repeat, warmup)
    plan = _measure(_targets(target), repeat, warmup, validate_config(config))
    request = next(plan)
    try:
        while True:
            if request.timed:
                start = clock()
                request.runnable.invoke(input, request.config)
                request = plan.send(clock() - start)
            else:
                request.runnable.invoke(input, request.config)
                request = plan.send(0.0)
    except StopIteration as stop:
        result: TimeitResult | TimeitComparison = stop.value
        return result


@overload
async def atimeit(
    target: Mapping[str, Any],
    input: Any,
    repeat: int = ...,
    warmup: int = ...,
    config: RunnableConfig | None = ...,
    *,
    clock: Clock = ...,
) -> TimeitComparison: ...


@overload
async def atimeit(
    target: Runnable[Any, Any] | Callable[..., Any],
    input: Any,
    repeat: int = ...,
    warmup: int = ...,
    config: RunnableConfig | None = ...,
    *,
    clock: Clock = ...,
) -> TimeitResult: ...


async def atimeit(
    target: Any,
    input: Any,
    repeat: int = 7,
    warmup: int = 1,
    config: RunnableConfig | None = None,
    *,
    clock: Clock = time.perf_counter,
) -> TimeitResult | TimeitComparison:
    """The async twin of :func:`timeit`: each run awaits ``ainvoke``."""
    _check(repeat, warmup)
    plan = _measure(_targets(target), repeat, warmup, validate_config(config))
    request = next(plan)
    try:
        while True:
            if request.timed:
                start = clock()
                await request.runnable.ainvoke(input, request.config)
                request = plan.send(clock() - start)
            else:
                await request.runnable.ainvoke(input, request.config)
                request = plan.send(0.0)
    except StopIteration as stop:
        result: TimeitResult | TimeitComparison = stop.value
        return result

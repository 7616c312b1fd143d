"""Write ``04_timing.ipynb``: sequential against parallel as the branches grow, the effect
of ``max_concurrency``, and a trace exported for Perfetto.
``python notebooks/build_04_timing.py`` writes it and stores its outputs (see
``nbbuild.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbbuild import code, main, md, notebook, setup_cells

NOTEBOOK = Path(__file__).with_name("04_timing.ipynb")

TITLE = """\
# Timing chains

What a parallel step saves as its branches grow, what `max_concurrency` does to it,
and how to take a trace to Perfetto. Every timing here comes from `chainviz.timeit`,
which runs a chain like `%timeit` does and keeps the trace of every run."""

CELLS: list[tuple[str, str]] = [
    ("md", """\
## 1. Sequential against parallel, as the branches grow

`fan_out(n)` is a parallel step of `n` branches, each a short answer about the same
topic. The same step with `max_concurrency=1` runs its branches one at a time: it is the
sequential version of the very same work."""),
    ("code", """\
import chainviz
from chainviz import RunnableParallel
from chainviz.parsers import StrOutputParser
from chainviz.prompts import ChatPromptTemplate

FORMS = {
    "joke": "tell me a joke about {topic}",
    "poem": "write a 2-line poem about {topic}",
    "haiku": "write a haiku about {topic}",
    "fact": "tell me a fact about {topic}",
    "riddle": "ask a riddle about {topic}",
    "names": "give me 3 names for a {topic}",
    "line": "describe a {topic} in one sentence",
    "limerick": "write a limerick about {topic}",
}


def fan_out(n: int) -> RunnableParallel:
    forms = list(FORMS.items())[:n]
    return RunnableParallel({
        name: ChatPromptTemplate.from_template(text) | model | StrOutputParser()
        for name, text in forms
    })


fan_out(4)"""),
    ("md", """\
For 1, 2, 4 and 8 branches, time both versions: one warm-up run, then three timed runs
each."""),
    ("code", """\
sizes = [1, 2, 4, 8]
timings = {}
for n in sizes:
    chain = fan_out(n)
    timings[n] = chainviz.timeit(
        {"sequential": chain.with_config(max_concurrency=1), "parallel": chain},
        {"topic": "bear"},
        repeat=3,
    )

print("branches  sequential    parallel  sequential / parallel")
for n, t in timings.items():
    seq, par = t["sequential"].average, t["parallel"].average
    print(f"{n:8}  {seq:8.2f} s  {par:8.2f} s  {seq / par:8.1f}×")"""),
    ("md", """\
With one branch the two versions are the same chain, and any difference is the model's
jitter from run to run. From there on, the sequential time adds up the branches while
the parallel time stays at about the slowest one. The same numbers as a chart (each bar
is a mean, the whisker spans the fastest to the slowest run):"""),
    ("code", """\
from chainviz.trace import TimeitComparison, TimeitResult

TimeitComparison({
    f"n={n} {kind}": TimeitResult(t[kind].all_runs)  # wall times only, no branch rows
    for n, t in timings.items()
    for kind in ("sequential", "parallel")
})"""),
    ("md", """\
`timeit` keeps more than wall times: every run's trace, so each branch has timings of
its own. With eight branches, the chart lists them under each version. In sequence, a
branch's time includes its wait for its turn; in parallel, every branch takes about as
long as it takes alone."""),
    ("code", """\
timings[8]"""),
    ("md", """\
## 2. `max_concurrency`

Between the two, `max_concurrency=k` lets at most `k` models of the run work at the same
time (a rate limit, a small local server). Eight branches take about `8 / k` rounds."""),
    ("code", """\
eight = fan_out(8)
limits = chainviz.timeit(
    {f"max_concurrency={k}": eight.with_config(max_concurrency=k) for k in (1, 2, 4, 8)},
    {"topic": "bear"},
    repeat=3,
)
print(limits)"""),
    ("md", """\
The waterfall of one run with `max_concurrency=2` shows the rounds: two models at a
time, each of the others starting as soon as one finishes. (The branches' bars include
their waits, so the speedup line, which adds the branches up, overstates the overlap
under a limit; the model bars show what ran at once.)"""),
    ("code", """\
trace = limits["max_concurrency=2"].traces[-1]
trace"""),
    ("md", """\
## 3. A trace for Perfetto

[Perfetto](https://ui.perfetto.dev) (and `chrome://tracing`) read Chrome's trace event
format. `trace.to_chrome_trace()` gives one, with a track per branch, so a parallel
step's branches show side by side. Write it to a file, then open Perfetto and drop the
file on it: nothing is uploaded, Perfetto reads it in the browser. The export holds node
ids, timings, statuses and token counts, never inputs or outputs."""),
    ("code", """\
import json
from pathlib import Path

perfetto_file = Path("max_concurrency_2.perfetto.json")
perfetto_file.write_text(json.dumps(trace.to_chrome_trace()))

events = trace.to_chrome_trace()["traceEvents"]
tracks = [e["args"]["name"] for e in events if e["name"] == "thread_name"]
spans = [e for e in events if e["ph"] == "X"]
print(f"{perfetto_file}: {perfetto_file.stat().st_size / 1024:.0f} KB, "
      f"{len(spans)} spans on {len(tracks)} tracks: {', '.join(tracks)}")"""),
    ("md", """\
To keep a run itself, `trace.save(path)` writes it as JSON (outputs as text) and
`Trace.load(path)` reads it back, for instance to compare with a later run. A loaded
trace shows as the same waterfall; `chainviz.show(trace, chain=chain)` draws it on its
chain's graph."""),
    ("code", """\
from chainviz.trace import Trace

trace.save("max_concurrency_2.trace.json")
loaded = Trace.load("max_concurrency_2.trace.json")
print(loaded)
print("the joke it kept:", loaded.node("joke").output)"""),
]


def build() -> Any:
    """The notebook, as an nbformat node."""
    return notebook([
        *setup_cells(TITLE),
        *(md(text) if kind == "md" else code(text) for kind, text in CELLS),
    ])


if __name__ == "__main__":
    main(build, NOTEBOOK)

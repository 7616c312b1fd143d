"""Write ``02_tour.ipynb``: composition step by step, with the graph and the waterfall of a
run at each stage. ``python notebooks/build_02_tour.py`` writes it and stores its outputs
(see ``nbbuild.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbbuild import code, main, md, notebook, setup_cells

NOTEBOOK = Path(__file__).with_name("02_tour.ipynb")

TITLE = """\
# A tour of chainviz

How chains are put together, one idea at a time: `|`, dicts, passing input through and
`assign`, streaming, a failing branch, Stop, `max_concurrency`. Each stage shows the
chain's graph and the waterfall of one run, so you can see where the time went."""

CELLS: list[tuple[str, str]] = [
    ("md", """\
## 1. A prompt is a runnable

Every piece of a chain is a *runnable*: it has `invoke` (and `ainvoke`, `batch`,
`stream`, `astream`). A prompt template turns a dict of variables into messages."""),
    ("code", """\
from chainviz.prompts import ChatPromptTemplate

prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
prompt.invoke({"topic": "bear"})"""),
    ("md", """\
## 2. `|` makes a sequence

`a | b` feeds `a`'s output to `b`. A prompt, the model, and a parser that keeps the
answer's text make the classic chain. In a notebook, a chain shows as its graph."""),
    ("code", """\
from chainviz.parsers import StrOutputParser

joke = prompt | model | StrOutputParser()
joke"""),
    ("md", """\
To see where the time goes, record a run: a `Recorder` is a *sink*, passed in the run's
config, that keeps every event. `recorder.last` is the last run's trace, drawn as a
waterfall: one bar per step on one time axis."""),
    ("code", """\
from chainviz.trace import Recorder

recorder = Recorder()
print(joke.invoke({"topic": "bear"}, config={"callbacks": [recorder]}))
recorder.last"""),
    ("md", """\
The steps run one after the other: the prompt and the parser take microseconds, the
model almost all of the time."""),
    ("md", """\
## 3. A dict is a parallel step

A dict of runnables, composed with `|`, becomes a `RunnableParallel`: every branch gets
the same input, the branches run at the same time, and the output is a dict with the
same keys. (`RunnableParallel(joke=..., poem=...)` is the same step, spelled out.) A
plain function is a step too, once wrapped in `RunnableLambda` (in a dict or in `assign`
it is wrapped for you)."""),
    ("code", """\
from chainviz import RunnableLambda

poem = (
    ChatPromptTemplate.from_template("write a 2-line poem about {topic}")
    | model
    | StrOutputParser()
)


def as_text(parts: dict) -> str:
    return f"JOKE\\n{parts['joke']}\\n\\nPOEM\\n{parts['poem']}"


joke_and_poem = {"joke": joke, "poem": poem} | RunnableLambda(as_text)
joke_and_poem"""),
    ("code", """\
print(joke_and_poem.invoke({"topic": "owl"}, config={"callbacks": [recorder]}))
recorder.last"""),
    ("md", """\
The two branches' bars overlap, so the parallel step took about as long as its slower
branch, not as long as both. The line under the waterfall says it in numbers: the wall
time, the branches' times added up, and their ratio (the speedup)."""),
    ("md", """\
## 4. Passing input through, and `assign`

`RunnablePassthrough()` passes its input on unchanged; in a dict, it keeps the input
beside what the other branches compute. `RunnablePassthrough.assign(key=runnable)` runs
its branches on a dict and adds their outputs to it, so later steps see everything
computed so far."""),
    ("code", """\
from chainviz import RunnablePassthrough

review_prompt = ChatPromptTemplate.from_template(
    "rate this joke about {topic} from 1 to 10: {joke}"
)


def joke_length(inputs: dict) -> int:
    return len(inputs["joke"])


reviewed = (
    {"topic": RunnablePassthrough()}  # "bear" -> {"topic": "bear"}
    | RunnablePassthrough.assign(joke=joke)  # adds "joke"
    | RunnablePassthrough.assign(  # adds "review" and "length", side by side
        review=review_prompt | model | StrOutputParser(), length=joke_length
    )
)
reviewed"""),
    ("code", """\
result = reviewed.invoke("bear", config={"callbacks": [recorder]})
for key, value in result.items():
    print(f"{key}: {value!r}")
recorder.last"""),
    ("md", """\
In the graph, each `assign` passes its input dict on beside its branches. In the
waterfall the joke comes first, then the review and the length side by side: a sequence
waits for each step, an `assign` runs its branches in parallel."""),
    ("md", """\
## 5. Streaming

`stream` yields the output while it is produced: the model's tokens pass through the
parser as they arrive."""),
    ("code", """\
for chunk in joke.stream({"topic": "cat"}):
    print(chunk, end="|", flush=True)"""),
    ("md", """\
The first token arrives long before the last one: the time to first token is what a
reader of a streamed answer waits for. The trace counts each step's tokens."""),
    ("code", """\
import time

arrivals = []
started = time.perf_counter()
for _ in joke.stream({"topic": "cat"}, config={"callbacks": [recorder]}):
    arrivals.append(time.perf_counter() - started)
print(f"{len(arrivals)} chunks: the first after {arrivals[0]:.2f} s, "
      f"the last after {arrivals[-1]:.2f} s")
recorder.last"""),
    ("md", """\
A parallel step streams too: each chunk is a dict with one branch's piece, under its
key, in the order the branches produce them. Leaving the loop early stops the run."""),
    ("code", """\
from itertools import islice

from chainviz import RunnableParallel

both = RunnableParallel(joke=joke, poem=poem)
for chunk in islice(both.stream({"topic": "cat"}), 8):
    print(chunk)"""),
    ("md", """\
`ainvoke`, `astream` and `abatch` are the async twins, and a notebook cell can `await`
them directly. (The sync `invoke` works in a notebook as well, though the notebook's
own event loop is running.)"""),
    ("code", """\
await both.ainvoke({"topic": "cat"})"""),
    ("md", """\
## 6. When a branch fails

When one branch raises, the run stops at once: the original exception comes out, with a
note naming the step that raised it; the branches still running are cancelled; and the
outputs of the branches that had finished stay readable from the exception."""),
    ("code", """\
from chainviz.errors import completed_outputs


def look_up_fact(inputs: dict) -> str:
    time.sleep(0.3)  # a slow service, and then…
    raise ConnectionError(f"the fact service did not answer about {inputs['topic']!r}")


def topic_length(inputs: dict) -> int:
    return len(inputs["topic"])


risky = RunnableParallel(joke=joke, poem=poem, length=topic_length, fact=look_up_fact)
try:
    risky.invoke({"topic": "bear"}, config={"callbacks": [recorder]})
except ConnectionError as exc:
    print(f"{type(exc).__name__}: {exc}")
    print(*exc.__notes__, sep="\\n")
    print("finished before the failure:", completed_outputs(exc))
recorder.last"""),
    ("md", """\
The failed step is marked *error*, the steps it cancelled *cancelled*. A chain's graph
can be drawn with a recorded run on it, each step coloured by how it ended:"""),
    ("code", """\
from IPython.display import SVG

SVG(risky.get_graph().to_svg(recorder.last))"""),
    ("md", """\
## 7. Stop

`chainviz.show(chain)` gives a view with *Run* and *Stop* buttons. `view.start(input)`
runs the chain in the background, as the Run button does, and `view.stop()` is the Stop
button: it cancels what is still running, and the branches that had finished keep their
outputs. Here the poem has twelve lines to write, so it is still running when Stop comes
after two seconds."""),
    ("code", """\
import chainviz

long_poem = (
    ChatPromptTemplate.from_template("write a 12-line poem about {topic}")
    | model
    | StrOutputParser()
)
race = RunnableParallel(joke=joke, poem=long_poem)

view = chainviz.show(race)
view.start({"topic": "bear"})  # returns at once; the bars move while this cell goes on
time.sleep(2)
stopped = view.stop()  # what the Stop button does
view.wait()  # until the cancelled branches have wound down
print("stopped a running chain:", stopped)"""),
    ("code", """\
view.trace"""),
    ("md", """\
Without a view, a `CancelToken` stops any run: pass it as `invoke(...,
cancel_token=token)` and call `token.cancel()` from anywhere, another thread included.
Here a sink (any function that takes an event) cancels the run as soon as either branch
has finished: the first answer wins."""),
    ("code", """\
from chainviz import CancelToken, EndEvent
from chainviz.errors import RunCancelled

token = CancelToken()


def first_answer_wins(event) -> None:
    if isinstance(event, EndEvent) and event.node_id in ("joke", "poem"):
        token.cancel(f"{event.node_id} answered first")


try:
    race.invoke(
        {"topic": "fox"},
        config={"callbacks": [recorder, first_answer_wins]},
        cancel_token=token,
    )
except RunCancelled as exc:
    print(exc)
    print("kept:", completed_outputs(exc))
recorder.last"""),
    ("md", """\
## 8. `max_concurrency`

By default every branch starts at once. `max_concurrency` in the config caps how many
models, functions and retrievers of one run execute at the same time, which is what you
want against a rate limit (`batch` takes it too). Six branches, shaped like `both`
above:"""),
    ("code", """\
forms = {
    "joke": "tell me a joke about {topic}",
    "poem": "write a 2-line poem about {topic}",
    "haiku": "write a haiku about {topic}",
    "fact": "tell me a fact about {topic}",
    "story": "write a 3-sentence story about {topic}",
    "riddle": "ask a riddle about {topic}",
}
six = RunnableParallel({
    name: ChatPromptTemplate.from_template(text) | model | StrOutputParser()
    for name, text in forms.items()
})
six.invoke({"topic": "owl"}, config={"callbacks": [recorder]})
recorder.last"""),
    ("md", """\
All six models ran at once. With `max_concurrency=2`, two run at a time, and each
waiting model starts when a running one finishes:"""),
    ("code", """\
six.invoke({"topic": "owl"}, config={"max_concurrency": 2, "callbacks": [recorder]})
recorder.last"""),
    ("md", """\
The models now run two at a time, each waiting one starting when a running one
finishes, and the run takes about three times as long. (A branch's bar includes its
wait for a turn, so the speedup line, which adds up the branches, overstates the
overlap here; the model bars show what really ran at once.)"""),
    ("md", """\
## Next

- `03_prompt_lab.ipynb`: edit and swap prompts in the view, and compare two versions.
- `04_timing.ipynb`: sequential against parallel as the branches grow, `max_concurrency`,
  and a trace exported for Perfetto."""),
]


def build() -> Any:
    """The notebook, as an nbformat node."""
    return notebook([
        *setup_cells(TITLE),
        *(md(text) if kind == "md" else code(text) for kind, text in CELLS),
    ])


if __name__ == "__main__":
    main(build, NOTEBOOK)

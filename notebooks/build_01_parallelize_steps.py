"""Write ``01_parallelize_steps.ipynb``: LangChain's *Parallelize steps* page, section by
section, with chainviz. ``python notebooks/build_01_parallelize_steps.py`` writes it and
stores its outputs (see ``nbbuild.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbbuild import code, main, md, notebook, setup_cells

NOTEBOOK = Path(__file__).with_name("01_parallelize_steps.ipynb")

TITLE = """\
# Parallelize steps

LangChain's *Parallelize steps* page, section by section, with chainviz. The code is the
page's code with two changes: the imports come from `chainviz`, and `model` and
`embeddings` come from the first code cell below (offline stand-ins, or OpenAI)."""

MAP_TEXT = """\
`RunnableParallel` (aka `RunnableMap`) makes it easy to execute multiple runnables in
parallel, and to return the output of these runnables as a map."""

MAP_CODE = """\
from chainviz import RunnableParallel
from chainviz.prompts import ChatPromptTemplate

joke_chain = ChatPromptTemplate.from_template("tell me a joke about {topic}") | model
poem_chain = (
    ChatPromptTemplate.from_template("write a 2-line poem about {topic}") | model
)

map_chain = RunnableParallel(joke=joke_chain, poem=poem_chain)

map_chain.invoke({"topic": "bear"})"""

GRAPH_TEXT = """\
In a notebook a chain shows as its graph: one branch per key, each a prompt and then the
model. Every step has an id, its path in the chain (`joke/0` is the joke's prompt,
`poem/1` the poem's model); run events, traces and the live view below all use these
ids."""

GRAPH_CODE = "map_chain"

IO_TEXT = """\
## Manipulating outputs/inputs

Maps can be useful for manipulating the output of one runnable to match the input
format of the next runnable in a sequence."""

IO_CODE = '''\
from chainviz import RunnablePassthrough
from chainviz.parsers import StrOutputParser
from chainviz.retrieval import FAISS

vectorstore = FAISS.from_texts(
    ["harrison worked at kensho"], embedding=embeddings
)
retriever = vectorstore.as_retriever()
template = """Answer the question based only on the following context:
{context}

Question: {question}
"""
prompt = ChatPromptTemplate.from_template(template)

retrieval_chain = (
    {"context": retriever, "question": RunnablePassthrough()}
    | prompt
    | model
    | StrOutputParser()
)

retrieval_chain.invoke("where did harrison work?")'''

IO_AFTER = """\
Here the input to prompt is expected to be a map with keys `"context"` and
`"question"`. The user input is just the question. So we need to get the context using
our retriever and pass the user input through under the `"question"` key.

Note that when composing a `RunnableParallel` with another runnable we don't even need
to wrap our dictionary in the `RunnableParallel` class — the type conversion is handled
for us. The graph shows it: the dict became the parallel step `0`, with the branches
`0/context` and `0/question`, and its output flows into the prompt."""

IO_GRAPH = "retrieval_chain"

PARALLELISM_TEXT = """\
## Parallelism

`RunnableParallel` is also useful for running independent processes in parallel, since
each runnable in the map is executed in parallel. For example, we can see our earlier
`joke_chain`, `poem_chain` and `map_chain` all have about the same runtime, even though
`map_chain` executes both of the other two.

The page times each chain with `%%timeit` (which works here too). `chainviz.timeit`
times the three in one call, the same way (one warm-up, then 7 runs), prints the same
lines, and draws them: a bar for each chain's mean, a whisker from its fastest to its
slowest run, a dot per run, and under each chain its branches."""

TIMEIT_CODE = """\
import chainviz

timings = chainviz.timeit(
    {"joke": joke_chain, "poem": poem_chain, "map": map_chain}, {"topic": "bear"}
)
timings"""

TIMEIT_AFTER = """\
The map's bar is about as long as the longer of the other two, not as long as both put
together: it costs the *max* of its branches, not the *sum*. Its speedup (the branches'
times added up, over its wall time) says the same in one number per run:"""

SPEEDUP_CODE = """\
slowest = max(timings["joke"].average, timings["poem"].average)
print(f"map: {timings['map'].average / slowest:.2f} × the slower chain alone")
print("speedup per run:", ", ".join(f"{s:.2f}×" for s in timings["map"].speedups))"""

LIVE_TEXT = """\
## Watch it run

`chainviz.show(chain)` draws the graph with a latency bar per branch, and runs the chain
with the bars growing live. `view.run(input)` runs it from code; the *Run* button runs
it with the form's input, in the background, and *Stop* cancels what is still running.
(On GitHub, or anywhere widgets cannot run, the output shows a picture of the last
run instead.)"""

LIVE_CODE = """\
view = chainviz.show(map_chain)
output = view.run({"topic": "bear"})"""

TRACE_TEXT = """\
Every run of the view is kept: `view.history` holds one trace per run, and `view.trace`
is the last one. A trace shows as a waterfall: each step on a shared time axis, so
overlapping bars are steps that ran at the same time."""

TRACE_CODE = "view.trace"


def build() -> Any:
    """The notebook, as an nbformat node."""
    return notebook([
        *setup_cells(TITLE),
        md(MAP_TEXT),
        code(MAP_CODE),
        md(GRAPH_TEXT),
        code(GRAPH_CODE),
        md(IO_TEXT),
        code(IO_CODE),
        md(IO_AFTER),
        code(IO_GRAPH),
        md(PARALLELISM_TEXT),
        code(TIMEIT_CODE),
        md(TIMEIT_AFTER),
        code(SPEEDUP_CODE),
        md(LIVE_TEXT),
        code(LIVE_CODE),
        md(TRACE_TEXT),
        code(TRACE_CODE),
    ])


if __name__ == "__main__":
    main(build, NOTEBOOK)

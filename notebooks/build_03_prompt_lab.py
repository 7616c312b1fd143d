"""Write ``03_prompt_lab.ipynb``: edit and swap a chain's prompts in the view, and compare
two versions side by side with their outputs and timings.
``python notebooks/build_03_prompt_lab.py`` writes it and stores its outputs (see
``nbbuild.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbbuild import code, main, md, notebook, setup_cells

NOTEBOOK = Path(__file__).with_name("03_prompt_lab.ipynb")

TITLE = """\
# The prompt lab

Edit a chain's prompts in its view, keep versions of them, swap them, and compare
versions side by side: outputs, time per branch, tokens. Every button of the lab has a
Python twin; this notebook uses the twins, so it runs top to bottom and each step can be
repeated by hand in the view."""

CELLS: list[tuple[str, str]] = [
    ("md", """\
## A chain with two prompts

`chainviz.show(chain)` draws the chain and runs it; below the bars, the *prompt lab*
lists every prompt of the chain by node id (`joke/0`, `poem/0`), with a text box to edit
it, a menu of its versions, *Save as alternative* and *Run every alternative*, and at
the bottom the view's runs with *Compare*. (On GitHub you see a picture of the last run
instead of the view; the comparisons below are shown as tables.)"""),
    ("code", """\
import chainviz
from chainviz import RunnableParallel
from chainviz.parsers import StrOutputParser
from chainviz.prompts import ChatPromptTemplate

joke = ChatPromptTemplate.from_template("tell me a joke about {topic}") | model | StrOutputParser()
poem = (
    ChatPromptTemplate.from_template("write a 2-line poem about {topic}")
    | model
    | StrOutputParser()
)
map_chain = RunnableParallel(joke=joke, poem=poem)

view = chainviz.show(map_chain)
first = view.run({"topic": "bear"})"""),
    ("md", """\
Every prompt starts with one version, `original`, as the chain was written.
`view.prompts` is the lab's state as plain data:"""),
    ("code", """\
view.prompts"""),
    ("md", """\
## Edit, check, save

Typing into the poem's box makes the text its `draft`, which is what Run uses next. The
line under the box checks the text as you type; from Python, `view.book.edit` is the
typing and `check()` the line:"""),
    ("code", """\
view.book.edit("poem/0", "write a 6-line poem about {topic}")
view.book.state("poem/0").check()"""),
    ("md", """\
A mistake is caught before anything runs: the input has `topic`, not `subject`. While a
prompt's check fails, the Run button refuses to start and says why."""),
    ("code", """\
view.book.edit("poem/0", "write a 6-line poem about {subject}")
print(*view.book.problems(), sep="\\n")"""),
    ("md", """\
Fixed, and saved under a name (the name field and *Save as alternative*). A saved
version becomes the one that runs; the menu switches between versions."""),
    ("code", """\
view.book.edit("poem/0", "write a 6-line poem about {topic}")
view.book.save("poem/0", "six lines")
view.prompts["poem/0"]"""),
    ("md", """\
## Run it, and compare with the run before

Run again (the *Run* button, or `view.run`), then *Compare* the last two runs
(`view.compare()`): the prompt versions each run used, with the changed words marked,
the outputs, the wall time, each branch's time and the tokens."""),
    ("code", """\
second = view.run({"topic": "bear"})
view.compare()"""),
    ("md", """\
The six-line poem has about three times the tokens, so it takes longer to write, and
the map waits for its slowest branch: the wall time grew with the poem. (The joke's time
only varies from run to run. The view's picture above shows its latest run.)

## Every version, on several inputs

*Run every alternative* runs each version of one prompt on the form's input, in one
batch, and shows them side by side. From Python it takes several inputs too (latencies
are then medians and tokens totals):"""),
    ("code", """\
view.compare_alternatives(
    inputs=[{"topic": "bear"}, {"topic": "owl"}, {"topic": "fox"}],
    node_id="poem/0",
    names=["original", "six lines"],
)"""),
    ("md", """\
## Timing two versions properly

One run of each is an anecdote. `view.chain` is the chain with the lab's versions in
it, and `config={"configurable": {"prompt:<node id>": name}}` picks one, so
`chainviz.timeit` can time both versions, seven runs each, and chart them with every
branch:"""),
    ("code", """\
def version(name: str):
    return view.chain.with_config(configurable={"prompt:poem/0": name})


timings = chainviz.timeit(
    {"original": version("original"), "six lines": version("six lines")},
    {"topic": "bear"},
)
timings"""),
    ("md", """\
## Keeping the versions

`view.prompts` is plain data: save it as JSON and give it back to a new view,
`chainviz.show(chain, prompts=data)`. Or give the view a file name,
`chainviz.show(chain, prompts="prompts.json")`: it reads the file and writes it after
every change, so nothing typed is lost when a cell re-runs or the kernel restarts."""),
    ("code", """\
import json
from pathlib import Path

Path("prompts.json").write_text(json.dumps(view.prompts, indent=1))
print(Path("prompts.json").read_text())"""),
    ("md", """\
The versions need no view to be used: a `PromptBook` (the lab's state, without widgets)
made from the saved data gives the chain with them, ready for a script or a batch."""),
    ("code", """\
from chainviz.widgets.promptlab import PromptBook

saved = json.loads(Path("prompts.json").read_text())
chain = PromptBook(map_chain, data=saved).chain()  # "six lines" is the poem's version here
print(chain.invoke({"topic": "owl"})["poem"])"""),
]


def build() -> Any:
    """The notebook, as an nbformat node."""
    return notebook([
        *setup_cells(TITLE),
        *(md(text) if kind == "md" else code(text) for kind, text in CELLS),
    ])


if __name__ == "__main__":
    main(build, NOTEBOOK)

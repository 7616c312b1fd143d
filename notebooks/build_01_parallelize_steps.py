"""Write ``01_parallelize_steps.ipynb`` from the cells below (no outputs are stored).

Run ``python notebooks/build_01_parallelize_steps.py`` after editing a cell; the
test suite checks that the notebook matches this script and that it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from nbformat import v4

NOTEBOOK = Path(__file__).with_name("01_parallelize_steps.ipynb")

INTRO = """\
# Parallelize steps

This notebook follows LangChain's *Parallelize steps* page with chainviz, offline:
`SimulatedChatModel` stands in for OpenAI's chat model. It needs no key and no
network, answers from the prompt, and takes about as long as a hosted model (a
short answer in about a second), reproducibly.

To use OpenAI instead, change the first import to
`from chainviz.models import ChatOpenAI` and set `OPENAI_API_KEY`."""

IMPORTS = """\
from chainviz import RunnableParallel
from chainviz.models import SimulatedChatModel as ChatOpenAI  # offline stand-in, no key
from chainviz.prompts import ChatPromptTemplate"""

MAP_TEXT = """\
`RunnableParallel` (aka `RunnableMap`) runs several runnables on the same input at
once and returns their outputs as a map."""

FIRST_EXAMPLE = """\
model = ChatOpenAI()
joke_chain = ChatPromptTemplate.from_template("tell me a joke about {topic}") | model
poem_chain = (
    ChatPromptTemplate.from_template("write a 2-line poem about {topic}") | model
)

map_chain = RunnableParallel(joke=joke_chain, poem=poem_chain)

map_chain.invoke({"topic": "bear"})"""

PARALLELISM_TEXT = """\
## Parallelism

Each branch is one model call of about a second. The map runs both branches at
once, so it costs about as much as the slower one, not the sum of the two."""

TIMINGS = [
    '%%timeit -n 1 -r 7\njoke_chain.invoke({"topic": "bear"})',
    '%%timeit -n 1 -r 7\npoem_chain.invoke({"topic": "bear"})',
    '%%timeit -n 1 -r 7\nmap_chain.invoke({"topic": "bear"})',
]


def build() -> Any:
    """The notebook, as an nbformat node."""
    cells = [
        v4.new_markdown_cell(INTRO),
        v4.new_code_cell(IMPORTS),
        v4.new_markdown_cell(MAP_TEXT),
        v4.new_code_cell(FIRST_EXAMPLE),
        v4.new_markdown_cell(PARALLELISM_TEXT),
        *(v4.new_code_cell(source) for source in TIMINGS),
    ]
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index:02d}"  # stable ids keep the file identical between builds
    notebook = v4.new_notebook(cells=cells)
    notebook.metadata.update(
        {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        }
    )
    return notebook


def main() -> None:
    nbformat.write(build(), NOTEBOOK)


if __name__ == "__main__":
    main()

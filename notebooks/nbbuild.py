"""What the notebook build scripts share: the opening cells, cell ids, and running a notebook.

Each ``build_NN_*.py`` lists its cells and calls :func:`main`, which writes the
notebook and then runs it in a kernel and stores the outputs (the pictures a
reader sees on GitHub). ``--no-execute`` writes the cells alone, for a quick look.

    python notebooks/build_02_tour.py            # write, run, store outputs
    python notebooks/build_02_tour.py --no-execute

The test suite checks that every stored notebook has the cells its script
builds, runs offline and against an OpenAI-compatible server, and stays small.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
from nbformat import v4

HERE = Path(__file__).resolve().parent

#: The switch a reader (and the test suite) flips to use a real model.
MODEL_ENV = "CHAINVIZ_MODEL"

SETUP_TEXT = """\
**Runs offline as it is.** `model` below is `SimulatedChatModel`: no key, no network,
reproducible answers that take about as long as a hosted model's (set
`CHAINVIZ_LATENCY_SCALE=0.1` to make it ten times faster). `embeddings` is
`HashingEmbeddings`: local and lexical (it matches words, not meaning).

**To use a real model**, start Jupyter with `CHAINVIZ_MODEL=openai` and either
- `OPENAI_API_KEY=sk-…` for OpenAI, or
- `OPENAI_BASE_URL=http://localhost:11434/v1` for an OpenAI-compatible server (Ollama,
  llama.cpp's `llama-server`, vLLM), with its model names in `CHAINVIZ_CHAT_MODEL`
  (e.g. `llama3.2`) and `CHAINVIZ_EMBEDDING_MODEL` (e.g. `nomic-embed-text`).

Or edit the cell: `ChatOpenAI("gpt-4o-mini", base_url="http://…/v1")`. Nothing else
in the notebook changes."""

SETUP_CODE = """\
import os

from chainviz.models import ChatOpenAI, SimulatedChatModel
from chainviz.retrieval import HashingEmbeddings, OpenAIEmbeddings

backend = os.environ.get("CHAINVIZ_MODEL", "simulated")
if backend == "openai":  # the client reads OPENAI_API_KEY and OPENAI_BASE_URL
    model = ChatOpenAI(os.environ.get("CHAINVIZ_CHAT_MODEL", "gpt-4o-mini"))
    embeddings = OpenAIEmbeddings(
        os.environ.get("CHAINVIZ_EMBEDDING_MODEL", "text-embedding-3-small")
    )
elif backend == "simulated":
    model = SimulatedChatModel()
    embeddings = HashingEmbeddings()
else:
    raise ValueError(f"CHAINVIZ_MODEL is {backend!r}: use 'simulated' (the default) or 'openai'.")
print(f"model:      {model!r}\\nembeddings: {embeddings!r}")"""

#: The latency scale the stored outputs are made with, unless a script says otherwise.
STORED_SCALE = 1.0

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def md(source: str) -> Any:
    return v4.new_markdown_cell(source)


def code(source: str) -> Any:
    return v4.new_code_cell(source)


def setup_cells(title: str) -> list[Any]:
    """The opening of every notebook: its title and what it shows, how to switch models,
    and the cell that makes ``model`` and ``embeddings``."""
    return [md(f"{title}\n\n{SETUP_TEXT}"), code(SETUP_CODE)]


def notebook(cells: Sequence[Any]) -> Any:
    """A notebook of ``cells`` with stable ids (so a rebuild changes nothing)."""
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index:02d}"
    built = v4.new_notebook(cells=list(cells))
    built.metadata.update({"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}})
    return built


def kernel_env(scale: float | None, *, openai: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a kernel: offline (no OpenAI variables), or ``openai``'s variables
    with the switch on; ``scale`` sets the simulated model's latency scale."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OPENAI_", "CHAINVIZ_MODEL", "CHAINVIZ_CHAT_MODEL",
                               "CHAINVIZ_EMBEDDING_MODEL", "CHAINVIZ_LATENCY_SCALE"))
    }
    repo = str(HERE.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [repo, env.get("PYTHONPATH")]))
    # The python3 kernel spec may start "python" from PATH: make it this interpreter.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if scale is not None:
        env["CHAINVIZ_LATENCY_SCALE"] = str(scale)
    if openai is not None:
        env.update(openai)
        env[MODEL_ENV] = "openai"
    return env


def execute(
    nb: Any, env: dict[str, str], *, cwd: str | Path, store_widget_state: bool = False,
    timeout: int = 300,
) -> Any:
    """Run ``nb`` top to bottom in a fresh python3 kernel with ``env``, in folder ``cwd``;
    raises ``CellExecutionError`` (naming the cell) if a cell fails."""
    from nbclient import NotebookClient

    client = NotebookClient(
        nb, kernel_name="python3", timeout=timeout, record_timing=False,
        store_widget_state=store_widget_state, resources={"metadata": {"path": str(cwd)}},
    )
    client.execute(env=env)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    return nb


def coalesce_streams(outputs: list[Any]) -> list[Any]:
    """Consecutive writes to one stream as one output (a cell printing token by token
    would otherwise store one output per token)."""
    merged: list[Any] = []
    for output in outputs:
        last = merged[-1] if merged else None
        if (output.output_type == "stream" and last is not None
                and last.output_type == "stream" and last.name == output.name):
            last.text += output.text
        else:
            merged.append(output)
    return merged


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def compact_widget_state(nb: Any) -> None:
    """Drop the unset (null) properties of stored ``Layout`` models: the browser's layout
    model starts with every property null, so the widgets look the same, and a view's
    dozens of layouts no longer take a third of the file."""
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for model in state.values():
        if model.get("model_name") == "LayoutModel":
            model["state"] = {k: v for k, v in model["state"].items() if v is not None}


def main(build: Any, path: Path, argv: Sequence[str] | None = None, *,
         scale: float = STORED_SCALE) -> None:
    """Write ``build()`` to ``path``; unless ``--no-execute``, run it and store its outputs."""
    parser = argparse.ArgumentParser(description=f"Write {path.name} (and run it).")
    parser.add_argument("--no-execute", action="store_true", help="store the cells only")
    parser.add_argument("--scale", type=float, default=scale,
                        help=f"CHAINVIZ_LATENCY_SCALE for the stored run (default {scale})")
    args = parser.parse_args(argv)
    nb = build()
    if not args.no_execute:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as cwd:  # files a notebook writes go away
            execute(nb, kernel_env(args.scale), cwd=cwd, store_widget_state=True)
        compact_widget_state(nb)
        print(f"{path.name}: ran in {time.perf_counter() - started:.1f} s")
    nbformat.write(nb, path)
    print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB")

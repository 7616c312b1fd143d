"""The notebooks in ``notebooks/``: each is what its build script writes, it runs top to
bottom in a real kernel offline and against an OpenAI-compatible server, and the stored
copy (with outputs, for GitHub) stays small and free of errors.

The kernels run the notebooks as a reader would, with one switch: offline, nothing set
(the simulated model, its waits scaled by ``CHAINVIZ_LATENCY_SCALE=0.1``); online,
``CHAINVIZ_MODEL=openai`` with ``OPENAI_BASE_URL``/``OPENAI_API_KEY`` pointing at the
fake server of ``tests/fakes/openai_server.py``, the way a reader points them at
OpenAI or at a local server.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAIServer

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
BUILDERS = sorted(NOTEBOOK_DIR.glob("build_*.py"))
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
MAX_BYTES = 300 * 1024
TEST_SCALE = 0.1
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SVG = "image/svg+xml"

pytest.importorskip("nbformat", reason="nbformat is needed to read notebooks")


def _builder(script: Path) -> ModuleType:
    """A build script, imported (its folder on sys.path for the shared ``nbbuild``)."""
    if str(NOTEBOOK_DIR) not in sys.path:
        sys.path.insert(0, str(NOTEBOOK_DIR))
    spec = importlib.util.spec_from_file_location(script.stem, script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read(path: Path) -> Any:
    import nbformat

    return nbformat.read(path, as_version=4)


def _text(notebook: Any) -> str:
    """Everything the code cells printed or showed as text."""
    return "\n".join(
        str(output.get("data", {}).get("text/plain", "")) + str(output.get("text", ""))
        for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


def _errors(notebook: Any) -> list[str]:
    return [
        f"{output.get('ename')}: {output.get('evalue')}"
        for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.get("outputs", []) if output.output_type == "error"
    ]


def _run(path: Path, env: dict[str, str], cwd: Path) -> Any:
    pytest.importorskip("nbclient", reason="nbclient is needed to run notebooks")
    pytest.importorskip("ipykernel", reason="ipykernel is needed for the python3 kernel")
    nbbuild = _builder(NOTEBOOK_DIR / "nbbuild.py")
    notebook = _read(path)
    for cell in notebook.cells:  # run from scratch, not on top of the stored outputs
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    # Raises CellExecutionError, naming the cell and showing its traceback, if a cell fails.
    nbbuild.execute(notebook, env, cwd=cwd, timeout=240)
    assert not _errors(notebook)
    assert "Traceback" not in _text(notebook)
    return notebook


def _check_content(name: str, text: str) -> None:
    """What a notebook must have shown, whichever model answered."""
    if name == "01_parallelize_steps.ipynb":
        assert "'joke': AIMessage(content=" in text
        assert "'poem': AIMessage(content=" in text
        assert text.count("per loop (mean ± std. dev. of 7 runs, 1 loop each)") == 3
    if name == "02_tour.ipynb":
        assert "finished before the failure:" in text
    if name == "03_prompt_lab.ipynb":
        assert "'six lines': 'write a 6-line poem about {topic}'" in text
        assert "Comparison(" in text
    if name == "04_timing.ipynb":
        assert "max_concurrency=2:" in text
        assert "spans on 9 tracks" in text


# ----------------------------------------------------------------- stored notebooks


def test_every_notebook_has_a_build_script() -> None:
    built = {_builder(script).NOTEBOOK.name for script in BUILDERS}
    assert {path.name for path in NOTEBOOKS} <= built
    assert {"01_parallelize_steps.ipynb", "02_tour.ipynb", "03_prompt_lab.ipynb",
            "04_timing.ipynb"} <= built


@pytest.mark.parametrize("script", BUILDERS, ids=lambda p: p.name)
def test_stored_notebook_matches_its_build_script(script: Path) -> None:
    builder = _builder(script)
    assert builder.NOTEBOOK.exists(), f"run python notebooks/{script.name}"
    stored, built = _read(builder.NOTEBOOK), builder.build()
    assert [(c.cell_type, c.source) for c in stored.cells] == [
        (c.cell_type, c.source) for c in built.cells
    ], f"the cells changed: run python notebooks/{script.name}"
    assert stored.metadata.kernelspec == built.metadata.kernelspec


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_notebook_is_small_has_its_outputs_and_no_errors(path: Path) -> None:
    size = path.stat().st_size
    assert size <= MAX_BYTES, f"{path.name} is {size / 1024:.0f} KB; keep it under 300 KB"
    notebook = _read(path)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), (
        f"{path.name} was stored without running it: run its build script"
    )
    assert not _errors(notebook)
    assert "Traceback" not in _text(notebook)
    outputs = [output for cell in code for output in cell.outputs]
    # Pictures for readers without a kernel (GitHub): graphs, waterfalls, charts.
    assert any(SVG in output.get("data", {}) for output in outputs)
    if any(WIDGET_VIEW in output.get("data", {}) for output in outputs):
        state = notebook.metadata.widgets[WIDGET_STATE]
        assert state["state"], "store the widget state: execute with store_widget_state=True"
        for output in outputs:  # every view has its picture beside it
            if WIDGET_VIEW in output.get("data", {}):
                assert SVG in output.data and "text/plain" in output.data
    _check_content(path.name, _text(notebook))
    json.dumps(notebook)  # plain JSON all the way down


# ----------------------------------------------------------------- running them


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_offline(path: Path, tmp_path: Path) -> None:
    nbbuild = _builder(NOTEBOOK_DIR / "nbbuild.py")
    notebook = _run(path, nbbuild.kernel_env(TEST_SCALE), tmp_path)
    text = _text(notebook)
    assert "model:      SimulatedChatModel(" in text
    _check_content(path.name, text)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_against_an_openai_compatible_server(
    path: Path, tmp_path: Path, openai_server: FakeOpenAIServer
) -> None:
    pytest.importorskip("openai", reason="the openai client is needed for ChatOpenAI")
    openai_server.latency = 0.02  # a little like a network, so timings are not all zero
    openai_server.stream_delay = 0.002
    nbbuild = _builder(NOTEBOOK_DIR / "nbbuild.py")
    notebook = _run(path, nbbuild.kernel_env(TEST_SCALE, openai=openai_server.env()), tmp_path)
    text = _text(notebook)
    assert "model:      ChatOpenAI(" in text
    assert "SimulatedChatModel" not in text
    _check_content(path.name, text)
    paths = {request.path.split("?")[0] for request in openai_server.requests}
    assert "/v1/chat/completions" in paths
    if path.name == "01_parallelize_steps.ipynb":
        assert "/v1/embeddings" in paths
    assert all(r.api_key == "sk-fake-test-key" for r in openai_server.requests)

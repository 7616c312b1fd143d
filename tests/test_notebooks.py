"""Every notebook in ``notebooks/`` runs top to bottom in a real kernel, offline.

The simulated model's waits are scaled by ``CHAINVIZ_LATENCY_SCALE=0.1`` so the
notebooks keep the seed's code unchanged and still run quickly here.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def _kernel_tools() -> tuple[Any, Any]:
    nbformat = pytest.importorskip("nbformat", reason="nbformat is needed to read notebooks")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is needed to run notebooks")
    pytest.importorskip("ipykernel", reason="ipykernel is needed for the python3 kernel")
    return nbformat, nbclient


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat, nbclient = _kernel_tools()
    # The python3 kernel spec may start "python" from PATH: make it this interpreter.
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent),
                                                os.environ.get("PATH", "")]))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")])
    ))
    monkeypatch.setenv("CHAINVIZ_LATENCY_SCALE", "0.1")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, kernel_name="python3", timeout=180,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    text = "\n".join(
        str(output.get("data", {}).get("text/plain", "")) + str(output.get("text", ""))
        for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )
    assert "Traceback" not in text
    if path.name == "01_parallelize_steps.ipynb":
        assert "'joke': AIMessage(content=" in text
        assert "'poem': AIMessage(content=" in text
        assert text.count("per loop (mean ± std. dev. of 7 runs, 1 loop each)") == 3


def test_first_notebook_matches_its_build_script() -> None:
    nbformat, _ = _kernel_tools()
    script = REPO / "notebooks" / "build_01_parallelize_steps.py"
    spec = importlib.util.spec_from_file_location("build_01_parallelize_steps", script)
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    stored = nbformat.read(builder.NOTEBOOK, as_version=4)
    built = builder.build()
    assert [(c.cell_type, c.source) for c in stored.cells] == [
        (c.cell_type, c.source) for c in built.cells
    ], "run python notebooks/build_01_parallelize_steps.py"
    assert all(not c.get("outputs") for c in stored.cells), "store the notebook without outputs"

"""Notebooks for browser tests, built from source strings, and printed time markers.

A cell given as a plain string is a code cell; wrap text in :func:`markdown` for a
markdown cell. Cell indices in the harness count every cell, markdown included, in
the order given here.

Markers are how a cell tells the test *when* something happened in the kernel::

    cells = [f"slow_call()\\n{marker('done')}"]
    ...
    lab.markers(0)  # {"done": 1732540000.123}

``marker(name)`` is one line of Python that prints ``CVMARK <name> <time.time()>``;
the harness parses those lines from a cell's output. Browser-side timestamps (see
``Lab.record_mutations``) are on the same wall clock, so the two compare directly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nbformat

MARKER_PREFIX = "CVMARK"
_MARKER_LINE = re.compile(rf"^{MARKER_PREFIX} (\S+) (\d+(?:\.\d+)?)\s*$", re.MULTILINE)

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


@dataclass(frozen=True)
class Markdown:
    """A markdown cell's source."""

    source: str


def markdown(source: str) -> Markdown:
    return Markdown(source)


Cell = str | Markdown


def marker(name: str) -> str:
    """One line of Python printing ``CVMARK <name> <epoch seconds>``, flushed at once."""
    if not re.fullmatch(r"\S+", name):
        raise ValueError(f"a marker name must be one word without spaces, got {name!r}")
    return f"print('{MARKER_PREFIX} {name}', format(__import__('time').time(), '.6f'), flush=True)"


def parse_markers(text: str) -> dict[str, float]:
    """Every ``CVMARK`` line in ``text`` as ``{name: epoch seconds}``; the last one wins."""
    return {name: float(stamp) for name, stamp in _MARKER_LINE.findall(text)}


def build_notebook(cells: Sequence[Cell]) -> nbformat.NotebookNode:
    """A v4 notebook whose kernelspec is ``python3`` (the test server's own Python)."""
    import nbformat  # imported here so that the conftest loads without it

    if isinstance(cells, str):
        raise TypeError("cells must be a list of sources, not one string")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    for cell in cells:
        if isinstance(cell, Markdown):
            nb.cells.append(nbformat.v4.new_markdown_cell(cell.source))
        elif isinstance(cell, str):
            nb.cells.append(nbformat.v4.new_code_cell(cell))
        else:
            raise TypeError(f"a cell is a source string or markdown(...), got {cell!r}")
    nbformat.validate(nb)
    return nb


def write_notebook(path: Path, cells: Sequence[Cell]) -> Path:
    import nbformat

    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build_notebook(cells), path)
    return path

"""The benchmark command keeps working: rows that need no langchain-core run here, and a
run compares with an earlier one. (Speed itself is measured by `make bench`, not here.)"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_a_row_measures_every_contender(bench: ModuleType) -> None:
    row = bench.row_recorder(1)
    assert set(row.medians) == {"chainviz", "chainviz, no sink"}
    assert all(value > 0 for value in row.medians.values())
    assert "added per step" in row.note


def test_a_run_compares_with_an_earlier_one(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = bench.Row("a row", "per run", 1, medians={"chainviz": 0.5})
    earlier = tmp_path / "earlier.json"
    earlier_row = {"key": "r", "name": "a row", "medians": {"chainviz": 1.0}}
    earlier.write_text(json.dumps({"rows": [earlier_row]}))
    bench.print_comparison("r", row, bench.load_earlier(str(earlier)))
    assert "1 s -> 500 ms (2.00×, faster)" in capsys.readouterr().out
    bench.print_comparison("unknown", row, bench.load_earlier(str(earlier)))
    assert capsys.readouterr().out == ""

"""The timing script runs; it prints its figures (see with -s) and asserts no time."""

from __future__ import annotations

from graph_timing import measure


def test_the_200_node_timing_runs() -> None:
    rows = measure(repeat=1)
    for row in rows:
        print(row)
    assert [row["nodes"] for row in rows] == [201, 201, 181]
    assert all(row["svg_wasm_ms"] > 0 for row in rows)

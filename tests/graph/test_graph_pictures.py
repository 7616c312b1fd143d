"""The text pictures: Mermaid and the terminal drawing."""

from __future__ import annotations

import pytest
from graph_steps import FakeModel, FakePrompt, FakeTrace, joke_poem, rag

from chainviz.core.parallel import RunnableParallel
from chainviz.core.passthrough import RunnablePassthrough
from chainviz.errors import ConfigError
from chainviz.graph import build_graph
from chainviz.graph.text import display_width

RAG_PICTURE = """\
                 ╭──────────────────╮
                 │ RunnableParallel │
                 │ parallel · 0     │
                 ╰────────┬─────────╯
            ┌─────────────┴─────────────┐
         context                    question
            ▼                           ▼
╭───────────────────────╮  ╭──────────────────────────╮
│ FakeRetriever         │  │ RunnablePassthrough      │
│ retriever · 0/context │  │ passthrough · 0/question │
╰───────────────────────╯  ╰──────────────────────────╯
            └─────────────┬─────────────┘
                          ▼
                    ╭────────────╮
                    │ FakePrompt │
                    │ prompt · 1 │
                    ╰─────┬──────╯
                          ▼
                    ╭───────────╮
                    │ FakeModel │
                    │ model · 2 │
                    ╰─────┬─────╯
                          ▼
                    ╭────────────╮
                    │ FakeParser │
                    │ parser · 3 │
                    ╰────────────╯
"""

RAG_NARROW_ASCII = """\
+------------------+
| RunnableParallel |
| parallel - 0     |
+--------+---------+
         +-- context
         |   +-----------------------+
         |   | FakeRetriever         |
         |   | retriever - 0/context |
         |   +-----------------------+
         +-- question
         |   +--------------------------+
         |   | RunnablePassthrough      |
         |   | passthrough - 0/question |
         |   +--------------------------+
         *
         v
   +------------+
   | FakePrompt |
   | prompt - 1 |
   +-----+------+
         v
   +-----------+
   | FakeModel |
   | model - 2 |
   +-----+-----+
         v
   +------------+
   | FakeParser |
   | parser - 3 |
   +------------+
"""


def test_ascii_draws_branches_side_by_side() -> None:
    assert build_graph(rag()).draw_ascii() == RAG_PICTURE


def test_ascii_lists_branches_one_under_another_when_too_wide() -> None:
    picture = build_graph(rag()).draw_ascii(max_width=40, charset="ascii")
    assert picture == RAG_NARROW_ASCII
    assert picture.isascii()


def column_of(row: str, char: str, occurrence: int = 0) -> int:
    """The terminal column of the ``occurrence``-th ``char`` in ``row``."""
    index = -1
    for _ in range(occurrence + 1):
        index = row.index(char, index + 1)
    return display_width(row[:index])


def test_ascii_keeps_columns_aligned_with_wide_characters() -> None:
    chain = RunnableParallel({"模型": FakeModel("大模型"), "b": FakePrompt() | FakeModel()})
    rows = build_graph(chain).draw_ascii().splitlines()
    name_row = next(i for i, row in enumerate(rows) if "大模型" in row)
    top, name, kind = rows[name_row - 1], rows[name_row], rows[name_row + 1]
    # The wide name's box closes in the column its border does, as does the next line.
    assert column_of(name, "│", 1) == column_of(top, "╮") == column_of(kind, "│", 1)
    assert "model · 模型" in kind
    # and the box beside it starts in the same column on every row.
    assert column_of(name, "│", 2) == column_of(top, "╭", 1) == column_of(kind, "│", 2)


def test_ascii_shows_an_assigns_kept_input_and_a_run() -> None:
    chain = FakePrompt() | RunnablePassthrough.assign(answer=FakeModel())
    trace = FakeTrace({"": {"status": "done", "latency_s": 2.5},
                       "1/answer": {"status": "error", "latency_s": 0.04}})
    picture = build_graph(chain).draw_ascii(trace)
    assert "input" in picture and "┆" in picture
    assert "✗ error · 40 ms" in picture and "– not run" in picture
    assert "error 40 ms" in build_graph(chain).draw_ascii(trace, charset="ascii")


def test_ascii_refuses_an_unknown_charset() -> None:
    with pytest.raises(ConfigError, match="charset"):
        build_graph(rag()).draw_ascii(charset="ebcdic")


def test_ascii_of_a_single_step() -> None:
    assert build_graph(FakeModel("gpt")).draw_ascii() == (
        "╭───────╮\n│ gpt   │\n│ model │\n╰───────╯\n"
    )


def test_mermaid_is_a_flowchart_with_subgraphs_keys_and_kind_classes() -> None:
    text = build_graph(joke_poem()).draw_mermaid()
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    assert '  subgraph c0[" "]' in lines and '    subgraph c1["RunnableSequence"]' in lines
    assert '  n0 -->|"joke"| n2' in lines and '  n0 -->|"poem"| n5' in lines
    assert "  n2 --> n3" in lines and "  n3 --- j0" in lines
    assert '      n2>"FakePrompt"]' in lines and '      n3("FakeModel")' in lines
    assert "  class n3 cv_kind_model" in lines
    assert any(line.startswith("  classDef cv_kind_model fill:#e3f2fd") for line in lines)
    assert text.count("subgraph") == text.count("\n  end") + text.count("\n    end")


def test_mermaid_marks_an_assigns_kept_input() -> None:
    text = build_graph(FakePrompt() | RunnablePassthrough.assign(x=FakeModel())).draw_mermaid()
    assert '  n2 -.-|"input"| j0' in text

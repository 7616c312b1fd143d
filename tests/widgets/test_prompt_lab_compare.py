"""Comparing prompt versions: the word diff, comparison data built from traces (versions,
outputs, latency per branch, tokens), alternatives run in one batch, and HTML in which
every user string is escaped."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from widget_fakes import Recorder

from chainviz import RunnableParallel
from chainviz.errors import ChainvizError, ConfigError
from chainviz.models import SimulatedChatModel
from chainviz.prompts import ChatPromptTemplate
from chainviz.widgets import ChainView
from chainviz.widgets.promptlab import (
    ORIGINAL,
    Comparison,
    DiffPart,
    PromptBook,
    compare_alternatives,
    diff_html,
    word_diff,
)
from chainviz.widgets.promptlab.render import check_html, esc

MODEL = SimulatedChatModel(latency_scale=0)
HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script> & $x$'


def joke_chain(joke: str = "tell me a joke about {topic}") -> Any:
    return RunnableParallel(
        joke=ChatPromptTemplate.from_template(joke) | MODEL,
        poem=ChatPromptTemplate.from_template("write a 2-line poem about {topic}") | MODEL,
    )


def test_the_diff_is_word_by_word_and_joins_back_to_both_texts() -> None:
    old, new = "tell me a joke about {topic}.", "tell me a short pun about {topic}!"
    parts = word_diff(old, new)
    assert parts == (
        DiffPart("equal", "tell me a "),
        DiffPart("delete", "joke"),
        DiffPart("insert", "short pun"),
        DiffPart("equal", " about {topic}"),
        DiffPart("delete", "."),
        DiffPart("insert", "!"),
    )
    assert "".join(p.text for p in parts if p.op != "insert") == old
    assert "".join(p.text for p in parts if p.op != "delete") == new
    assert word_diff("same", "same") == (DiffPart("equal", "same"),)
    assert diff_html("a", "a <b>") == 'a<ins class="cv-ins"> &lt;b&gt;</ins>'


def test_view_compare_puts_two_runs_side_by_side_with_their_versions(
    recorded: Recorder,
) -> None:
    view = ChainView(joke_chain())
    assert view.book is not None and view.lab is not None
    view.run({"topic": "bears"})
    view.book.edit("joke/0", "tell me a short joke about {topic}")
    view.book.save("joke/0", "short")
    view.run({"topic": "bears"})
    assert [label for label, _ in view.lab.runs.options] == [
        f"run 1 · done · {_took(view, 0)} · joke/0: original, poem/0: original",
        f"run 2 · done · {_took(view, 1)} · joke/0: short, poem/0: original",
    ]
    assert view.lab.runs.value == (0, 1)
    comparison = view.compare()  # the last two
    data = comparison.to_dict()
    first, second = data["columns"]
    assert (first["label"], second["label"]) == ("run 1", "run 2")
    assert first["versions"]["joke/0"] == {"name": ORIGINAL,
                                           "template": "tell me a joke about {topic}"}
    assert second["versions"]["joke/0"]["name"] == "short"
    assert set(first["branches"]) == {"joke", "poem"}
    assert all(latency > 0 for latency in second["branches"].values())
    # Tokens are what the model calls reported, added up.
    usage = [r.usage for r in view.history[1].runs if r.kind == "model"]
    assert second["tokens"]["input"] == sum(u["input_tokens"] for u in usage) > 0
    assert second["outputs"][0].startswith("joke: ")
    # The panel shows it: both versions, the second as a diff from the first.
    shown = view.lab.output.value
    assert shown == comparison.to_html()
    assert '<ins class="cv-ins">short </ins>' in shown
    assert "tell me a joke about {topic}" in shown
    assert "same text as run 1" in shown  # poem/0 did not change
    with pytest.raises(ConfigError, match="at least two runs"):
        view.compare(0)
    with pytest.raises(ConfigError, match="no run 5"):
        view.compare(0, 5)


def _took(view: ChainView, index: int) -> str:
    from chainviz.trace import wall_time
    from chainviz.widgets.state import format_seconds

    return format_seconds(wall_time(view.history[index]))


def test_alternatives_run_in_one_batch_over_several_inputs() -> None:
    book = PromptBook(joke_chain())
    book.edit("joke/0", "write a 2-line poem about {topic}")
    book.save("joke/0", "poem")
    book.edit("joke/0", "a joke about {topic")  # malformed: left out of "every alternative"
    inputs = [{"topic": "bears"}, {"topic": "rivers"}, {"topic": "cats"}]
    comparison = compare_alternatives(book, "joke/0", inputs)
    assert [c.label for c in comparison.columns] == [ORIGINAL, "poem"]
    assert all(len(c.traces) == 3 and c.status == "done" for c in comparison.columns)
    poem = comparison.columns[1]
    prompts = [t.node("joke/0").output.to_string() for t in poem.traces]
    assert prompts == [f"Human: write a 2-line poem about {t}" for t in ("bears", "rivers", "cats")]
    assert [t.root.input for t in poem.traces] == inputs
    assert poem.versions is not None and poem.versions["joke/0"].name == "poem"
    tokens_in, tokens_out = poem.tokens()
    assert tokens_in > 0 and tokens_out > 0 and poem.tokens("joke")[1] < tokens_out
    assert "on 3 inputs" in comparison.title
    page = comparison.to_html()
    assert page.count("cv-row-output") == 3 and "input 3" in page
    with pytest.raises(ChainvizError, match="cannot run"):
        compare_alternatives(book, "joke/0", inputs[:1], names=["draft"])
    with pytest.raises(ConfigError, match="no alternative 'nope'"):
        compare_alternatives(book, "joke/0", inputs[:1], names=["nope"])


def test_view_compare_alternatives_defaults_to_the_prompt_with_several(
    recorded: Recorder,
) -> None:
    view = ChainView(joke_chain())
    assert view.book is not None and view.lab is not None
    view.book.edit("poem/0", "write a limerick about {topic}")
    view.book.save("poem/0", "limerick")
    view.lab.editors["joke/0"]  # the form's input is used when none is given
    view.form.texts["topic"].value = "owls"  # type: ignore[union-attr]
    comparison = view.compare_alternatives()
    assert [c.label for c in comparison.columns] == [ORIGINAL, "limerick"]
    assert comparison.columns[0].inputs == [{"topic": "owls"}]
    assert view.lab.output.value == comparison.to_html()
    assert view.history == []  # side runs, not the view's


def test_every_user_string_in_the_html_is_escaped() -> None:
    book = PromptBook(joke_chain(HOSTILE + " {topic}"))
    book.edit("joke/0", HOSTILE + " {topic} " + HOSTILE)
    book.save("joke/0", HOSTILE[:40])
    comparison = compare_alternatives(book, "joke/0", [{"topic": HOSTILE}])
    page = comparison.to_html()
    _assert_only_our_markup(page)
    assert html.escape(HOSTILE) in page
    assert "tex2jax_ignore" in page  # "$x$" stays text, not mathematics
    status = check_html(book.edit("joke/0", HOSTILE + " {topic").check(), HOSTILE)
    _assert_only_our_markup(status)
    assert esc(HOSTILE) in status
    assert Comparison(()).to_html().count("<table") == 0


def _assert_only_our_markup(page: str) -> None:
    tags = set(re.findall(r"<\s*/?\s*([a-zA-Z]+)", page))
    assert tags <= {"div", "span", "pre", "table", "tr", "th", "td", "code", "ins", "del",
                    "style"}, tags
    assert "onerror=" not in page.replace("onerror=&quot;", "")
    assert "<script" not in page and "<img" not in page

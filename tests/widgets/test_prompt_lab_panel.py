"""The prompt lab's widgets in a ChainView, without a kernel: typing, choosing, saving,
Run refusing a broken prompt, Run using the edit, and the comparison panel."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from widget_fakes import Recorder

from chainviz import RunnableParallel
from chainviz.errors import TemplateError
from chainviz.models import SimulatedChatModel
from chainviz.prompts import ChatPromptTemplate
from chainviz.widgets import ChainView
from chainviz.widgets.promptlab import DRAFT, ORIGINAL

MODEL = SimulatedChatModel(latency_scale=0)


def make_view(**kwargs: Any) -> ChainView:
    chain = RunnableParallel(
        joke=ChatPromptTemplate.from_template("tell me a joke about {topic}") | MODEL,
        poem=ChatPromptTemplate.from_template("write a 2-line poem about {topic}") | MODEL,
    )
    view = ChainView(chain, **kwargs)
    assert view.form is not None
    view.form.texts["topic"].value = "bears"
    return view


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_panel_lists_every_prompt_by_node_id_below_the_live_view(recorded: Recorder) -> None:
    view = make_view()
    assert view.lab is not None
    assert view.children[-1] is view.lab.widget and view.children[-2] is view.live
    assert list(view.lab.editors) == ["joke/0", "poem/0"]
    joke = view.lab.editors["joke/0"]
    assert joke.texts[0].value == "tell me a joke about {topic}"
    assert list(joke.version.options) == [ORIGINAL] and joke.version.value == ORIGINAL
    assert "✓" in joke.status.value and "uses {topic}" in joke.status.value
    assert "cv-prompt" in joke.box._dom_classes
    # Folded under its title until opened, or until there are versions to show.
    assert view.lab.widget.titles == ("Prompt lab · 2 prompts",)
    assert view.lab.widget.selected_index is None
    restored = make_view(prompts={"joke/0": {"current": "v2", "alternatives": {
        "v2": "tell me a long joke about {topic}"}}})
    assert restored.lab is not None and restored.lab.widget.selected_index == 0


def test_typing_checks_as_you_type_and_run_uses_the_edit(recorded: Recorder) -> None:
    view = make_view()
    assert view.lab is not None
    joke = view.lab.editors["joke/0"]
    joke.texts[0].value = "write a 2-line poem about {subject}"
    assert joke.version.value == DRAFT and list(joke.version.options) == [ORIGINAL, DRAFT]
    assert "✗" in joke.status.value and "needs the variable &#x27;subject&#x27;" in (
        joke.status.value)
    view.run_button.click()  # refused: the form cannot supply {subject}
    assert not view.running and view.history == []
    assert "Not run: Prompt &#x27;joke/0&#x27; needs" in view.lab.message.value

    joke.texts[0].value = "write a 2-line poem about {topic"
    assert "Bad prompt template at position 26" in joke.status.value
    with pytest.raises(TemplateError, match="is not a valid template"):
        view.run()  # from Python too: nothing runs
    assert view.history == []

    joke.texts[0].value = "write a 2-line poem about {topic}"
    assert "✓" in joke.status.value
    view.run_button.click()
    assert view.wait(10) and len(view.history) == 1
    trace = view.history[0]
    assert trace.node("joke/0").output.to_string() == "Human: write a 2-line poem about bears"
    assert len(trace.node("joke/1").output.content.splitlines()) == 2  # a 2-line poem now
    assert view._versions[0] is not None and view._versions[0]["joke/0"].name == DRAFT


def test_save_choose_and_bad_names(recorded: Recorder) -> None:
    view = make_view()
    assert view.lab is not None
    joke = view.lab.editors["joke/0"]
    joke.texts[0].value = "a short joke about {topic}"
    joke.name.value = "short"
    joke.save.click()
    assert list(joke.version.options) == [ORIGINAL, "short"] and joke.version.value == "short"
    assert joke.name.value == "" and "Saved &#x27;short&#x27;" in view.lab.message.value
    joke.version.value = ORIGINAL
    assert joke.texts[0].value == "tell me a joke about {topic}"
    assert view.prompts["joke/0"]["current"] == ORIGINAL
    joke.name.value = "draft"
    joke.save.click()
    assert "reserved" in view.lab.message.value and "cv-check-bad" in view.lab.message.value
    # A change made from Python shows in the widgets.
    assert view.book is not None
    view.book.select("joke/0", "short")
    assert joke.version.value == "short" and joke.texts[0].value == "a short joke about {topic}"


def test_run_every_alternative_and_compare_runs_from_the_buttons(recorded: Recorder) -> None:
    view = make_view()
    assert view.lab is not None and view.book is not None
    joke = view.lab.editors["joke/0"]
    joke.texts[0].value = "a short joke about {topic}"
    joke.name.value = "short"
    joke.save.click()
    joke.run_all.click()
    wait_for(lambda: "Compared the alternatives" in view.lab.message.value,  # type: ignore[union-attr]
             "the alternatives to run")
    assert not joke.run_all.disabled
    shown = view.lab.output.value
    assert "Alternatives of prompt &#x27;joke/0&#x27;" in shown
    assert '<ins class="cv-ins">short </ins>' in shown

    view.run()
    view.book.select("joke/0", ORIGINAL)
    view.run()
    view.run()
    assert len(view.lab.runs.options) == 3 and view.lab.runs.value == (1, 2)
    view.lab.runs.value = (0, 2)
    view.lab.compare_button.click()
    assert view.lab.comparison is not None
    assert [c.label for c in view.lab.comparison.columns] == ["run 1", "run 3"]
    assert "<del class=\"cv-del\">short </del>" in view.lab.output.value
    view.lab.runs.value = (0,)
    view.lab.compare_button.click()
    assert "at least two runs" in view.lab.message.value


def test_a_chain_without_prompts_gets_no_panel(recorded: Recorder) -> None:
    view = ChainView(RunnableParallel(a=lambda x: x))
    assert view.lab is None and view.prompts == {}
    assert view.children[-1] is view.live

"""Prompt versions as plain data: edits, drafts, named alternatives and the current
choice round-trip through Python (``view.prompts``, ``ChainView(chain, prompts=...)``,
a JSON file); bad templates and missing variables are flagged before anything runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from widget_fakes import Recorder

from chainviz import RunnableLambda, RunnableParallel, RunnablePassthrough
from chainviz.errors import ConfigError, TemplateError
from chainviz.models import SimulatedChatModel
from chainviz.prompts import ChatPromptTemplate
from chainviz.widgets import ChainView
from chainviz.widgets.promptlab import DRAFT, ORIGINAL, PromptBook, config_id

MODEL = SimulatedChatModel(latency_scale=0)
JOKE = "tell me a joke about {topic}"


def joke_chain() -> Any:
    joke = ChatPromptTemplate.from_template(JOKE) | MODEL
    poem = ChatPromptTemplate.from_template("write a 2-line poem about {topic}") | MODEL
    return RunnableParallel(joke=joke, poem=poem)


def prompt_text(chain: Any, node_id: str, input: Any, config: Any = None) -> str:
    """What the prompt at ``node_id`` made in one run of ``chain``."""
    seen: list[Any] = []
    chain.invoke(input, {**(config or {}), "callbacks": [seen.append]})
    return str(next(e.output for e in seen if e.type == "end" and e.node_id == node_id)
               .to_string())


def test_typing_makes_a_draft_saving_names_it_choosing_keeps_it() -> None:
    book = PromptBook(joke_chain())
    state = book.edit("joke/0", "tell me a short joke about {topic}")
    assert state.current == DRAFT and list(state.alternatives) == [ORIGINAL, DRAFT]
    assert book.edit("joke/0", "tell me a short joke about {topic}") == state  # no change
    state = book.save("joke/0", "  short ")
    assert state.current == "short" and list(state.alternatives) == [ORIGINAL, "short"]
    book.edit("joke/0", "a pun about {topic}")
    state = book.select("joke/0", ORIGINAL)  # the draft stays
    assert state.texts() == (JOKE,) and state.alternatives[DRAFT] == ("a pun about {topic}",)
    assert book.versions()["joke/0"].name == ORIGINAL
    state = book.remove("joke/0", DRAFT)
    assert list(state.alternatives) == [ORIGINAL, "short"]


@pytest.mark.parametrize(("name", "why"), [
    ("", "Give the alternative a name"),
    (ORIGINAL, "reserved"),
    (DRAFT, "reserved"),
    ("x" * 61, "at most 60 characters"),
])
def test_bad_names_are_refused(name: str, why: str) -> None:
    book = PromptBook(joke_chain())
    with pytest.raises(ConfigError, match=why):
        book.save("joke/0", name)


def test_the_chain_uses_the_current_choice_and_python_can_pick_any() -> None:
    book = PromptBook(joke_chain())
    book.edit("joke/0", "a short joke about {topic}")
    book.save("joke/0", "short")
    book.edit("joke/0", "a long joke about {topic}")  # the draft is current now
    chain = book.chain()
    bears = {"topic": "bears"}
    assert prompt_text(chain, "joke/0", bears) == "Human: a long joke about bears"
    for name, text in [("short", "a short joke"), (ORIGINAL, "tell me a joke")]:
        config = {"configurable": {config_id("joke/0"): name}}
        assert prompt_text(chain, "joke/0", bears, config) == f"Human: {text} about bears"
    assert prompt_text(chain, "poem/0", bears).startswith("Human: write a 2-line poem")
    assert [n.id for n in chain.get_graph().nodes] == [
        n.id for n in joke_chain().get_graph().nodes]
    assert book.chain() is chain  # built once per change


def test_a_malformed_template_is_flagged_kept_and_never_run() -> None:
    book = PromptBook(joke_chain())
    state = book.edit("joke/0", "tell me a joke about {topic")
    check = state.check()
    assert not check.ok and check.problem == "template"
    assert "Prompt 'joke/0': Bad prompt template at position 21" in check.message
    assert "never closed" in check.message
    assert book.to_data()["joke/0"]["alternatives"][DRAFT] == "tell me a joke about {topic"
    assert book.problems() == [check.message]
    broken = "current version 'draft' of the prompt at 'joke/0' is not a valid"
    with pytest.raises(TemplateError, match=broken):
        book.chain()
    with pytest.raises(TemplateError, match="Fix the template before saving"):
        book.save("joke/0", "broken")
    book.select("joke/0", ORIGINAL)  # another choice runs; the draft is still there
    assert book.problems() == [] and book.chain() is not None


def test_a_variable_the_input_will_not_supply_is_flagged() -> None:
    book = PromptBook(joke_chain())
    check = book.edit("joke/0", "a joke about {subject}").check()
    assert not check.ok and check.problem == "variables"
    assert check.message.startswith(
        "Prompt 'joke/0' needs the variable 'subject', but the chain's input supplies only "
        "'topic'.")
    rag = {"context": RunnableLambda(lambda q: "ctx"), "question": RunnablePassthrough()} | (
        ChatPromptTemplate.from_template("{context} {question}")) | MODEL
    book = PromptBook(rag)
    assert book.state("1").check().ok
    check = book.edit("1", "{context} {question} {history}").check()
    assert "needs the variable 'history', but step '0' (RunnableParallel) supplies only " \
        "'context', 'question'" in check.message
    after_model = ChatPromptTemplate.from_template("{q}") | MODEL | (
        ChatPromptTemplate.from_template("judge: {answer}"))
    book = PromptBook(after_model)
    assert book.state("2").check().ok
    check = book.edit("2", "judge {answer} against {reference}").check()
    assert "gets one value from step '1' (SimulatedChatModel), not a dict" in check.message


def test_view_prompts_round_trip_through_json_into_a_new_view(recorded: Recorder) -> None:
    view = ChainView(joke_chain())
    assert view.book is not None
    view.book.edit("joke/0", "a short joke about {topic}")
    view.book.save("joke/0", "short")
    view.book.edit("poem/0", "a haiku about {topic")  # malformed drafts are kept too
    data = json.loads(json.dumps(view.prompts))
    assert data == {
        "joke/0": {"current": "short", "alternatives": {
            ORIGINAL: JOKE, "short": "a short joke about {topic}"}},
        "poem/0": {"current": DRAFT, "alternatives": {
            ORIGINAL: "write a 2-line poem about {topic}", DRAFT: "a haiku about {topic"}},
    }
    again = ChainView(joke_chain(), prompts=data)
    assert again.prompts == data
    assert again.lab is not None
    editor = again.lab.editors["joke/0"]
    assert editor.version.value == "short"
    assert editor.texts[0].value == "a short joke about {topic}"
    assert "✗" in again.lab.editors["poem/0"].status.value
    # view.chain carries the versions too: a view of it needs no prompts= at all.
    again.prompts = {"poem/0": {"current": ORIGINAL, "alternatives": {}}}
    third = ChainView(again.chain)
    assert third.prompts["joke/0"] == data["joke/0"]
    assert third.prompts["poem/0"]["current"] == ORIGINAL
    assert third._graph is not None and view._graph is not None
    assert [n.id for n in third._graph.nodes] == [n.id for n in view._graph.nodes]


def test_saved_prompts_that_no_longer_fit_are_kept_with_a_warning(recorded: Recorder) -> None:
    data = {
        "joke/0": {"current": "short", "alternatives": {ORIGINAL: "an older original {topic}",
                                                        "short": "short {topic}"}},
        "story/0": {"current": "x", "alternatives": {"x": "a story"}},
    }
    with pytest.warns(UserWarning, match="'story/0' is not in this chain"):
        view = ChainView(joke_chain(), prompts=data)
    prompts = view.prompts
    assert prompts["story/0"] == data["story/0"]  # not lost
    joke = prompts["joke/0"]
    assert joke["alternatives"][ORIGINAL] == JOKE  # the chain's own original wins ...
    assert joke["alternatives"]["original (saved)"] == "an older original {topic}"  # ... kept
    assert joke["current"] == "short"
    with pytest.raises(ConfigError, match="must be a dict"):
        ChainView(joke_chain(), prompts=["joke/0"])  # type: ignore[arg-type]


def test_a_prompts_file_is_read_and_written_on_every_change(
    recorded: Recorder, tmp_path: Path
) -> None:
    path = tmp_path / "prompts.json"
    view = ChainView(joke_chain(), prompts=path)
    assert json.loads(path.read_text())["joke/0"]["current"] == ORIGINAL
    assert view.lab is not None
    view.lab.editors["joke/0"].texts[0].value = "typed, not saved: {topic}"
    saved = json.loads(path.read_text())
    assert saved["joke/0"]["alternatives"][DRAFT] == "typed, not saved: {topic}"
    # A re-run cell (or a new kernel) finds it again.
    again = ChainView(joke_chain(), prompts=str(path))
    assert again.prompts == view.prompts
    assert again.lab is not None and again.lab.editors["joke/0"].texts[0].value == (
        "typed, not saved: {topic}")
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        ChainView(joke_chain(), prompts=path)


def test_unknown_node_ids_and_names_are_errors_that_list_the_known_ones() -> None:
    book = PromptBook(joke_chain())
    with pytest.raises(ConfigError, match="prompts are at: 'joke/0', 'poem/0'"):
        book.state("joke/1")
    with pytest.raises(ConfigError, match="no alternative 'long'; it has: 'original'"):
        book.select("joke/0", "long")
    with pytest.raises(TemplateError, match="1 templated message"):
        book.edit("joke/0", ("a", "b"))


def test_chainviz_show_takes_the_prompts_file_too(recorded: Recorder, tmp_path: Path) -> None:
    import chainviz

    path = tmp_path / "lab.json"
    path.write_text(json.dumps({"joke/0": {"current": "v2", "alternatives": {
        "v2": "a pun about {topic}"}}}))
    view = chainviz.show(joke_chain(), prompts=path)
    assert view.prompts["joke/0"]["current"] == "v2"
    assert prompt_text(view.chain, "joke/0", {"topic": "owls"}) == "Human: a pun about owls"


def test_a_chat_prompt_with_several_messages_round_trips_as_a_list_per_version(
    recorded: Recorder,
) -> None:
    from chainviz.prompts import MessagesPlaceholder

    prompt = ChatPromptTemplate.from_messages([
        ("system", "You are {persona}."), MessagesPlaceholder("history", optional=True),
        ("human", "{question}")])
    view = ChainView(prompt | MODEL)
    assert view.lab is not None and view.book is not None
    system, human = view.lab.editors["0"].texts
    assert (system.description, human.description) == ("system", "human")
    human.value = "Briefly: {question}"
    view.book.save("0", "brief")
    data = json.loads(json.dumps(view.prompts))
    assert data["0"]["alternatives"]["brief"] == ["You are {persona}.", "Briefly: {question}"]
    again = ChainView(prompt | MODEL, prompts=data)
    text = prompt_text(again.chain, "0", {"persona": "a bear", "question": "why?"})
    assert text == "System: You are a bear.\nHuman: Briefly: why?"

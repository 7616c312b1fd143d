"""Prompt templates: variables, partials, bare strings, documents, edits, and every error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainviz import ConfigurableField, RunnableLambda, RunnableParallel
from chainviz.errors import StepInputError, TemplateError
from chainviz.messages import (
    AIMessage,
    ChatPromptValue,
    Document,
    HumanMessage,
    StringPromptValue,
    SystemMessage,
)
from chainviz.prompts import (
    ChatPromptTemplate,
    MessagesPlaceholder,
    PromptTemplate,
    parse_template,
)

Run = Callable[..., Any]

echo = RunnableLambda(lambda value: value, name="echo")


# ------------------------------------------------------------------------ variables


def test_from_template_makes_one_human_message(run: Run) -> None:
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    assert prompt.input_variables == ["topic"]
    value = run(prompt, {"topic": "bear"})
    assert isinstance(value, ChatPromptValue)
    assert value.to_messages() == [HumanMessage("tell me a joke about bear")]
    assert value.to_string() == "Human: tell me a joke about bear"


def test_string_prompt(run: Run) -> None:
    prompt = PromptTemplate.from_template("{a} and {b}, then {a} again")
    assert prompt.input_variables == ["a", "b"]
    value = run(prompt, {"a": 1, "b": "two", "unused": 3})
    assert value == StringPromptValue("1 and two, then 1 again")
    assert prompt.format(a="x", b="y") == "x and y, then x again"


def test_from_messages_takes_tuples_messages_and_placeholders(run: Run) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You answer in {style} style."),
            MessagesPlaceholder("history"),
            ("placeholder", "{scratch}"),
            "{question}",
            AIMessage("Let me think."),
        ]
    )
    assert prompt.input_variables == ["style", "history", "question"]
    value = run(
        prompt,
        {"style": "short", "question": "why?", "history": [("human", "hi"), ("ai", "hello")]},
    )
    assert value.to_messages() == [
        SystemMessage("You answer in short style."),
        HumanMessage("hi"),
        AIMessage("hello"),
        HumanMessage("why?"),
        AIMessage("Let me think."),
    ]


def test_placeholder_needs_a_list_of_messages(run: Run) -> None:
    prompt = ChatPromptTemplate.from_messages([MessagesPlaceholder("history"), ("human", "{q}")])
    with pytest.raises(StepInputError, match="needs a list of messages for 'history'"):
        run(prompt, {"history": 42, "q": "x"})


def test_partial_with_values_and_functions(run: Run) -> None:
    prompt = ChatPromptTemplate.from_template("{greeting}, {name}! Today is {day}.")
    filled = prompt.partial(greeting="Hello", day=lambda: "Monday")
    assert filled.input_variables == ["name"]
    assert prompt.input_variables == ["greeting", "name", "day"]  # the original is unchanged
    assert run(filled, "Ada").to_string() == "Human: Hello, Ada! Today is Monday."
    assert run(filled, {"name": "Ada", "day": "Friday"}).to_string().endswith("Friday.")


def test_partial_rejects_unknown_names() -> None:
    prompt = PromptTemplate.from_template("about {topic}")
    with pytest.raises(TemplateError, match=r"got 'topc'.*its variables are 'topic'"):
        prompt.partial(topc="bears")


def test_one_variable_prompt_takes_a_bare_value(run: Run) -> None:
    prompt = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    assert run(prompt, "bears").to_string() == "Human: tell me a joke about bears"
    schema = prompt.get_input_schema()
    assert schema.variables == ("topic",) and schema.open


def test_schema_of_a_two_variable_prompt_is_closed() -> None:
    schema = PromptTemplate.from_template("{context} {question}").get_input_schema()
    assert schema.variables == ("context", "question") and not schema.open


def test_documents_read_as_their_text(run: Run) -> None:
    prompt = ChatPromptTemplate.from_template("Context:\n{context}\n\nQuestion: {question}")
    docs = [Document("harrison worked at kensho", {"s": 1}), Document("bears like honey")]
    text = run(prompt, {"context": docs, "question": "where?"}).to_messages()[0].content
    assert text == "Context:\nharrison worked at kensho\n\nbears like honey\n\nQuestion: where?"
    assert "Document(" not in text and "metadata" not in text
    one = run(PromptTemplate.from_template("{d}"), Document("only text"))
    assert one.to_string() == "only text"


def test_messages_read_as_their_content(run: Run) -> None:
    prompt = PromptTemplate.from_template("Rate this joke: {joke}")
    assert run(prompt, AIMessage("Bear feet!")).to_string() == "Rate this joke: Bear feet!"


def test_escaped_braces_are_literal(run: Run) -> None:
    prompt = PromptTemplate.from_template('Reply as JSON: {{"topic": "{topic}"}}')
    assert prompt.input_variables == ["topic"]
    assert run(prompt, "bears").to_string() == 'Reply as JSON: {"topic": "bears"}'


@given(st.text(max_size=40))
def test_escaping_round_trips_any_text(text: str) -> None:
    template = text.replace("{", "{{").replace("}", "}}")
    assert PromptTemplate.from_template(template).format() == text


def test_a_prompt_streams_one_value() -> None:
    prompt = ChatPromptTemplate.from_template("about {topic}")
    assert list(prompt.stream("bears")) == [prompt.invoke("bears")]


# ----------------------------------------------------------------- input errors


def test_missing_variable_names_node_id_missing_and_given(run: Run) -> None:
    joke = ChatPromptTemplate.from_template("tell me a joke about {topic}")
    poem = ChatPromptTemplate.from_template("write a 2-line poem about {topic}")
    chain = RunnableParallel(joke=joke | echo, poem=poem | echo)
    with pytest.raises(StepInputError) as caught:
        run(chain, {"subject": "bear"})
    message = str(caught.value)
    assert caught.value.node_id in ("joke/0", "poem/0")
    assert f"Step '{caught.value.node_id}' (ChatPromptTemplate)" in message
    assert "needs the variable 'topic'" in message
    assert "the input has the key 'subject'" in message


def test_missing_variables_of_a_prompt_run_alone(run: Run) -> None:
    prompt = PromptTemplate.from_template("{context} / {question} / {style}")
    with pytest.raises(StepInputError) as caught:
        run(prompt, {"question": "q"})
    assert str(caught.value).startswith(
        "PromptTemplate needs the variables 'context', 'style', but the input has the key "
        "'question'."
    )
    with pytest.raises(StepInputError, match="the input dict is empty"):
        run(prompt, {})


def test_wrong_input_type_says_what_the_prompt_accepts(run: Run) -> None:
    prompt = ChatPromptTemplate.from_template("{context}\n{question}")
    chain = {"p": prompt} | echo
    with pytest.raises(StepInputError) as caught:
        run(chain, "where did harrison work?")
    message = str(caught.value)
    assert caught.value.node_id == "0/p"
    assert "Step '0/p' (ChatPromptTemplate) accepts a dict with the keys 'context', 'question'" in (
        message
    )
    assert "but got a str ('where did harrison work?')" in message


def test_format_outside_a_chain_names_no_step() -> None:
    with pytest.raises(StepInputError, match=r"^PromptTemplate needs the variable 'b'"):
        PromptTemplate.from_template("{a}{b}").format(a=1)


# ------------------------------------------------------------- template errors


@pytest.mark.parametrize(
    ("template", "position", "problem"),
    [
        ("tell me a joke about {topic", 21, "'{' is never closed"),
        ("a {b {c}", 2, "'{' is never closed"),
        ("tell me } a joke", 8, "'}' has no matching '{'"),
        ("empty {} name", 6, r"the variable name is empty \('\{\}'\)"),
        ("line one\nsay {two words}", 13, "the variable name 'two words' is not a Python"),
        ('{"json": 1}', 0, "the variable name '\"json\": 1' is not a Python identifier"),
    ],
)
def test_malformed_templates_fail_when_built(template: str, position: int, problem: str) -> None:
    for build in (
        PromptTemplate.from_template,
        ChatPromptTemplate.from_template,
        lambda t: ChatPromptTemplate.from_messages([("system", "ok"), ("human", t)]),
    ):
        with pytest.raises(TemplateError, match=f"at position {position} .*: {problem}"):
            build(template)


def test_template_error_shows_the_line_and_a_caret() -> None:
    with pytest.raises(TemplateError) as caught:
        PromptTemplate.from_template("first\nsecond {oops")
    assert "(line 2, column 8)" in str(caught.value)
    assert str(caught.value).endswith("\n  second {oops\n         ^")


def test_parse_template_splits_text_and_variables() -> None:
    parts = parse_template("a {x} b {{y}} {x}")
    assert [p if isinstance(p, str) else f"<{p.name}>" for p in parts] == [
        "a ", "<x>", " b {y} ", "<x>"
    ]


def test_bad_roles_and_items_fail_when_built() -> None:
    with pytest.raises(TemplateError, match="role 'bot' is not known"):
        ChatPromptTemplate.from_messages([("bot", "hi")])
    with pytest.raises(TemplateError, match="Message 1 of the chat prompt is a int"):
        ChatPromptTemplate.from_messages([("human", "hi"), 42])
    with pytest.raises(TemplateError, match="placeholder, whose text must be one variable"):
        ChatPromptTemplate.from_messages([("placeholder", "history")])


def test_declared_input_variables_must_match() -> None:
    assert PromptTemplate("{a}", input_variables=["a"]).input_variables == ["a"]
    with pytest.raises(TemplateError, match="does not match the template"):
        PromptTemplate("{a}", input_variables=["b"])
    with pytest.raises(TemplateError, match="'mustache' is not supported"):
        PromptTemplate("{{a}}", template_format="mustache")


# ------------------------------------------------------------------------ edits


def test_with_replaced_makes_a_working_checked_copy(run: Run) -> None:
    for cls in (PromptTemplate, ChatPromptTemplate):
        prompt = cls.from_template("tell me a joke about {topic}")
        edited = prompt.with_replaced(template="write a poem about {topic} in {style} style")
        assert prompt.template == "tell me a joke about {topic}"
        assert edited.template == "write a poem about {topic} in {style} style"
        assert edited.input_variables == ["topic", "style"]
        text = run(edited, {"topic": "bears", "style": "haiku"}).to_string()
        assert text.endswith("write a poem about bears in haiku style")
        with pytest.raises(TemplateError, match=r"'\{' is never closed"):
            prompt.with_replaced(template="a poem about {topic")


def test_chat_prompt_with_several_messages_is_edited_by_messages(run: Run) -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "be {tone}"), ("human", "{q}")])
    assert prompt.templates == [("system", "be {tone}"), ("human", "{q}")]
    with pytest.raises(TemplateError, match=r"pass messages=\[\.\.\.\] instead"):
        prompt.with_replaced(template="x")
    edited = prompt.with_replaced(messages=[("system", "be brief"), ("human", "{q}?")])
    assert edited.input_variables == ["q"]
    assert run(edited, "why").to_string() == "System: be brief\nHuman: why?"


def test_template_is_configurable_at_run_time(run: Run) -> None:
    prompt = PromptTemplate.from_template("joke about {topic}").configurable_fields(
        template=ConfigurableField(id="template")
    )
    assert run(prompt, "bears").to_string() == "joke about bears"
    config = {"configurable": {"template": "poem about {topic}"}}
    assert run(prompt, "bears", config=config).to_string() == "poem about bears"


def test_repr_shows_variables_and_templates() -> None:
    prompt = ChatPromptTemplate.from_template("about {topic}")
    assert repr(prompt) == (
        "ChatPromptTemplate(input_variables=['topic'], messages=[('human', 'about {topic}')])"
    )
    assert prompt.get_name() == "ChatPromptTemplate"
    assert prompt.kind == "prompt"

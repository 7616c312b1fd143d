"""The prompt lab without widgets: finding prompts by node id, what each one receives,
and rebuilding a chain with a prompt swapped (node ids unchanged, the original intact)."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import pytest

from chainviz import (
    ConfigurableField,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
)
from chainviz.errors import CompositionError, TemplateError
from chainviz.models import SimulatedChatModel
from chainviz.parsers import StrOutputParser
from chainviz.prompts import ChatPromptTemplate, MessagesPlaceholder, PromptTemplate
from chainviz.widgets.promptlab import (
    ORIGINAL,
    config_id,
    find_prompts,
    replace_prompt,
    with_alternatives,
)
from chainviz.widgets.promptlab.sites import Supply, texts_of, with_texts

MODEL = SimulatedChatModel(latency_scale=0)


def joke_chain() -> Any:
    joke = ChatPromptTemplate.from_template("tell me a joke about {topic}") | MODEL
    poem = ChatPromptTemplate.from_template("write a 2-line poem about {topic}") | MODEL
    return RunnableParallel(joke=joke, poem=poem)


def rag_chain() -> Any:
    prompt = ChatPromptTemplate.from_template("Context: {context}\nQuestion: {question}")
    retriever = RunnableLambda(lambda q: "bears sleep in winter", name="retriever")
    return {"context": retriever, "question": RunnablePassthrough()} | prompt | MODEL | (
        StrOutputParser())


def sites(chain: Any) -> dict[str, Supply]:
    return {site.node_id: site.supply for site in find_prompts(chain)}


def graph_ids(chain: Any) -> list[str]:
    return [node.id for node in chain.get_graph().nodes]


def test_prompts_are_found_by_the_node_ids_the_graph_and_the_runs_use() -> None:
    chain = joke_chain()
    found = find_prompts(chain)
    assert [site.node_id for site in found] == ["joke/0", "poem/0"]
    assert set(s.node_id for s in found) <= set(graph_ids(chain))
    assert found[0].original == ("tell me a joke about {topic}",)
    assert found[0].alternatives == {ORIGINAL: ("tell me a joke about {topic}",)}
    assert found[0].name == "ChatPromptTemplate"


def test_keys_are_escaped_and_wrappers_add_no_level() -> None:
    prompt = PromptTemplate.from_template("say {x}")
    chain = RunnableParallel({"a/b": prompt.with_retry() | MODEL, "c~d": prompt.with_config(
        tags=["t"])})
    assert list(sites(chain)) == ["a~1b/0", "c~0d"]
    assert "a~1b/0" in graph_ids(chain)


def test_what_each_prompt_receives() -> None:
    assert sites(joke_chain())["joke/0"] == Supply("keys", ("topic",), "the chain's input")
    assert sites(rag_chain())["1"] == Supply(
        "keys", ("context", "question"), "step '0' (RunnableParallel)")
    # assign adds its keys to what came in; after a model, one value; after a function,
    # nothing is known.
    chain = (
        {"question": itemgetter("q")}
        | RunnablePassthrough.assign(context=lambda x: "ctx")
        | RunnableParallel(
            a=PromptTemplate.from_template("{question} {context}"),
            b=PromptTemplate.from_template("{question}") | MODEL
            | PromptTemplate.from_template("rate: {answer}"),
            c=RunnableLambda(lambda x: x) | PromptTemplate.from_template("{anything}"),
        )
    )
    found = sites(chain)
    assert found["2/a"] == Supply("keys", ("question", "context"), "step '1' (RunnableAssign)")
    assert found["2/b/2"] == Supply("value", (), "step '2/b/1' (SimulatedChatModel)")
    assert found["2/c/1"].kind == "unknown"
    # An assign whose input is not known: at least its own keys.
    loose = RunnableLambda(dict) | RunnablePassthrough.assign(k=lambda x: 1) | (
        PromptTemplate.from_template("{k}"))
    assert sites(loose)["2"] == Supply("at_least", ("k",), "step '1' (RunnableAssign)")


def test_chat_prompts_with_several_messages_have_one_text_per_message() -> None:
    prompt = ChatPromptTemplate.from_messages([
        ("system", "You are {persona}."),
        MessagesPlaceholder("history"),
        ("human", "{question}"),
    ])
    (site,) = find_prompts(prompt | MODEL)
    assert site.node_id == "0" and site.roles == ("system", "human")
    assert site.original == ("You are {persona}.", "{question}")
    edited = with_texts(prompt, ("You are {persona}, briefly.", "Q: {question}"))
    assert edited.templates == [("system", "You are {persona}, briefly."),  # type: ignore[attr-defined]
                                ("human", "Q: {question}")]
    assert isinstance(edited.messages[1], MessagesPlaceholder)  # type: ignore[attr-defined]
    with pytest.raises(TemplateError, match="In the human message: Bad prompt template"):
        with_texts(prompt, ("fine", "{broken"))
    with pytest.raises(TemplateError, match="2 templated message"):
        with_texts(prompt, ("only one",))


def test_prompts_without_text_are_not_listed() -> None:
    fixed = ChatPromptTemplate.from_messages([MessagesPlaceholder("history")])
    assert find_prompts(fixed | MODEL) == []


def test_replacing_a_prompt_keeps_every_node_id_and_leaves_the_original_alone() -> None:
    chain = rag_chain()
    before = graph_ids(chain)
    new_prompt = ChatPromptTemplate.from_template("Q: {question}\nC: {context}")
    swapped: Any = replace_prompt(chain, "1", lambda old: new_prompt)
    assert graph_ids(swapped) == before
    assert swapped.steps[1] is new_prompt
    assert chain.steps[1] is not new_prompt  # values are not changed in place
    assert swapped.steps[0] is chain.steps[0] and swapped.steps[2] is chain.steps[2]

    nested = joke_chain() | RunnableLambda(lambda x: x)
    inside: Any = replace_prompt(nested, "0/poem/0", lambda old: new_prompt)
    assert inside.steps[0].branches["poem"].steps[0] is new_prompt
    assert graph_ids(inside) == graph_ids(nested)


def test_replacing_through_wrappers_and_assign() -> None:
    prompt = PromptTemplate.from_template("{a}")
    chain = RunnablePassthrough.assign(x=(prompt | MODEL).with_retry())
    swapped = replace_prompt(chain, "x/0", lambda old: PromptTemplate.from_template("{a}!"))
    assert graph_ids(swapped) == graph_ids(chain)
    assert texts_of(find_prompts(swapped)[0].prompt) == ("{a}!",)


def test_replacing_where_there_is_no_prompt_says_so() -> None:
    with pytest.raises(CompositionError, match="There is no prompt at step 'joke/1'"):
        replace_prompt(joke_chain(), "joke/1", lambda old: old)
    with pytest.raises(CompositionError, match="has no child 'story'"):
        replace_prompt(joke_chain(), "story/0", lambda old: old)


def test_alternatives_are_picked_from_python_by_config_and_keep_node_ids() -> None:
    chain = joke_chain()
    site = find_prompts(chain)[0]
    short = with_texts(site.prompt, ("a short joke about {topic}",))
    wrapped = with_alternatives(chain, {"joke/0": ("short", {ORIGINAL: site.prompt,
                                                             "short": short})})
    assert graph_ids(wrapped) == graph_ids(chain)
    seen: list[Any] = []
    wrapped.invoke({"topic": "bears"}, {"callbacks": [seen.append]})
    prompt_out = next(e.output for e in seen if e.type == "end" and e.node_id == "joke/0")
    assert prompt_out.to_string() == "Human: a short joke about bears"
    seen.clear()
    wrapped.invoke({"topic": "bears"}, {"configurable": {config_id("joke/0"): ORIGINAL},
                                        "callbacks": [seen.append]})
    prompt_out = next(e.output for e in seen if e.type == "end" and e.node_id == "joke/0")
    assert prompt_out.to_string() == "Human: tell me a joke about bears"
    # Read back: the wrapped chain's prompt has both versions, "short" current.
    again = find_prompts(wrapped)[0]
    assert again.current == "short" and list(again.alternatives) == [ORIGINAL, "short"]


def test_a_users_own_alternatives_are_looked_through() -> None:
    prompt = PromptTemplate.from_template("{topic}")
    other = PromptTemplate.from_template("other {topic}")
    chain = prompt.configurable_alternatives(ConfigurableField(id="mine"), other=other) | MODEL
    (site,) = find_prompts(chain)
    assert site.node_id == "0" and site.prompt is prompt

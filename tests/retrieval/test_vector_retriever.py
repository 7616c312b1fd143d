"""The retriever step: a runnable of kind 'retriever' in chains, sync and async."""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import pytest
from retrieval_helpers import run

from chainviz import RunnableLambda, RunnablePassthrough
from chainviz.core.events import RunEvent
from chainviz.errors import ConfigError, RetrievalError, failed_node_id
from chainviz.messages import Document
from chainviz.retrieval import FAISS, HashingEmbeddings, VectorStoreRetriever

TEXTS = ["harrison worked at kensho", "bears hibernate in winter", "paris is in france"]


@pytest.fixture
def store() -> FAISS:
    return FAISS.from_texts(TEXTS, HashingEmbeddings())


def test_is_a_leaf_step_that_takes_a_slot(store: FAISS) -> None:
    retriever = store.as_retriever()
    assert isinstance(retriever, VectorStoreRetriever)
    assert retriever.kind == "retriever"
    assert retriever.uses_slot is True
    assert retriever.get_name() == "VectorStoreRetriever"
    assert "FAISS(3 documents" in repr(retriever)


def test_returns_documents_default_k_4(store: FAISS, mode: str) -> None:
    docs = run(mode, store.as_retriever(), "where did harrison work?")
    assert len(docs) == 3  # k=4 but only three documents
    assert docs[0] == Document("harrison worked at kensho", {}, id="0")


def test_search_kwargs_k(store: FAISS, mode: str) -> None:
    retriever = store.as_retriever(search_kwargs={"k": 1})
    assert [d.page_content for d in run(mode, retriever, "bears")] == [TEXTS[1]]


def test_score_threshold(store: FAISS, mode: str) -> None:
    retriever = store.as_retriever(
        search_type="similarity_score_threshold", search_kwargs={"score_threshold": 0.15}
    )
    assert [d.page_content for d in run(mode, retriever, "where did harrison work?")] == [TEXTS[0]]


def test_in_the_seed_shape_with_events(store: FAISS, mode: str) -> None:
    events: list[RunEvent] = []
    chain = {"context": store.as_retriever(), "question": RunnablePassthrough()} | RunnableLambda(
        lambda d: f"{d['context'][0]} / {d['question']}"
    )
    out = run(mode, chain, "where did harrison work?", config={"callbacks": [events.append]})
    assert out == "harrison worked at kensho / where did harrison work?"
    mine = [e for e in events if e.kind == "retriever"]
    assert [e.type for e in mine] == ["start", "end"]
    assert {e.node_id for e in mine} == {"0/context"}


def test_a_non_string_input_names_the_step(store: FAISS, mode: str) -> None:
    chain = {"context": store.as_retriever(), "question": itemgetter("question")}
    with pytest.raises(RetrievalError, match=r"step '0/context'|step 'context'") as info:
        run(mode, chain, {"question": "where?"})
    assert "itemgetter('question')" in str(info.value)
    assert failed_node_id(info.value) == "context"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"search_type": "mmr"}, "search_type 'mmr' is not supported"),
        ({"search_kwargs": {"kk": 2}}, "unknown search_kwargs 'kk'"),
        ({"search_type": "similarity_score_threshold"}, "needs 'score_threshold'"),
        (
            {
                "search_type": "similarity_score_threshold",
                "search_kwargs": {"score_threshold": "hi"},
            },
            "must be a number",
        ),
    ],
)
def test_bad_search_settings_are_config_errors(
    store: FAISS, kwargs: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ConfigError, match=fragment):
        store.as_retriever(**kwargs)


def test_bad_k_is_refused_when_built_and_when_changed(store: FAISS, mode: str) -> None:
    with pytest.raises(RetrievalError, match="positive int"):
        store.as_retriever(search_kwargs={"k": 0})
    changed = store.as_retriever().with_replaced(search_kwargs={"k": -2})
    with pytest.raises(RetrievalError, match="positive int"):
        run(mode, changed, "bears")

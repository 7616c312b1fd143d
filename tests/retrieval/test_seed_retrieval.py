"""The seed's "Manipulating outputs/inputs" example, with only the imports changed.

It runs twice: offline with chainviz's defaults (SimulatedChatModel and
HashingEmbeddings), and through ChatOpenAI + OpenAIEmbeddings against a local
OpenAI-compatible server, by configuration alone.
"""

from __future__ import annotations

from typing import Any

import pytest
from fakes.openai_server import FakeOpenAIServer
from retrieval_helpers import run

from chainviz import RunnablePassthrough
from chainviz.core.events import RunEvent, TokenEvent
from chainviz.models import SimulatedChatModel
from chainviz.parsers import StrOutputParser
from chainviz.prompts import ChatPromptTemplate
from chainviz.retrieval import FAISS, HashingEmbeddings

TEMPLATE = """Answer the question based only on the following context:
{context}

Question: {question}
"""


def seed_chain(model: Any, embedding: Any) -> Any:
    """The seed page's code, verbatim apart from where model and embedding come from."""
    vectorstore = FAISS.from_texts(["harrison worked at kensho"], embedding=embedding)
    retriever = vectorstore.as_retriever()
    prompt = ChatPromptTemplate.from_template(TEMPLATE)
    retrieval_chain = (
        {"context": retriever, "question": RunnablePassthrough()}
        | prompt
        | model
        | StrOutputParser()
    )
    return retrieval_chain


def test_offline_with_chainviz_defaults(mode: str) -> None:
    chain = seed_chain(SimulatedChatModel(latency_scale=0), HashingEmbeddings())
    events: list[RunEvent] = []
    answer = run(mode, chain, "where did harrison work?", config={"callbacks": [events.append]})
    assert isinstance(answer, str)
    assert "kensho" in answer.lower()
    kinds = {e.node_id: e.kind for e in events if e.type == "start"}
    assert kinds["0/context"] == "retriever"
    assert any(isinstance(e, TokenEvent) for e in events)


def test_through_the_openai_client_by_configuration_alone(
    openai_env: FakeOpenAIServer, mode: str
) -> None:
    openai = pytest.importorskip("openai")
    del openai
    from chainviz.models import ChatOpenAI
    from chainviz.retrieval import OpenAIEmbeddings

    # No arguments, as on the seed page: OPENAI_BASE_URL and OPENAI_API_KEY point here.
    answer = run(mode, seed_chain(ChatOpenAI(), OpenAIEmbeddings()), "where did harrison work?")
    assert answer.startswith("echo: Answer the question based only on the following context:")
    assert "harrison worked at kensho" in answer
    assert answer.rstrip().endswith("Question: where did harrison work?")
    paths = [r.path for r in openai_env.requests]
    assert paths == ["/v1/embeddings", "/v1/embeddings", "/v1/chat/completions"]
    assert {r.api_key for r in openai_env.requests} == {"sk-fake-test-key"}

"""OpenAIEmbeddings through the real openai client and a local server."""

from __future__ import annotations

import asyncio
import itertools
import pickle
import threading
import time
from typing import Any

import numpy as np
import pytest

openai = pytest.importorskip("openai")

from fakes.openai_server import FakeOpenAIServer, fake_embedding  # noqa: E402
from retrieval_helpers import run  # noqa: E402

from chainviz import CancelToken, RunnableParallel  # noqa: E402
from chainviz.errors import (  # noqa: E402
    ConfigError,
    ModelConfigurationError,
    RetrievalError,
    RunCancelled,
    StepTimeout,
)
from chainviz.retrieval import FAISS, Embeddings, OpenAIEmbeddings  # noqa: E402

EMBED = "/v1/embeddings"
KEY = "sentinel-embedding-key-8c41d2"


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)


def embeddings(server: FakeOpenAIServer, **kwargs: Any) -> OpenAIEmbeddings:
    return OpenAIEmbeddings(base_url=server.base_url, api_key=KEY, **kwargs)


def test_is_an_embeddings() -> None:
    assert isinstance(OpenAIEmbeddings(), Embeddings)


def test_documents_and_query_sync_and_async(openai_server: FakeOpenAIServer) -> None:
    emb = embeddings(openai_server, dimensions=16)
    texts = ["harrison worked at kensho", "bears hibernate"]
    vectors = emb.embed_documents(texts)
    assert np.allclose(vectors, [fake_embedding(t, 16) for t in texts], atol=1e-6)
    assert np.allclose(asyncio.run(emb.aembed_documents(texts)), vectors, atol=1e-6)
    query = emb.embed_query("where did harrison work?")
    assert asyncio.run(emb.aembed_query("where did harrison work?")) == pytest.approx(query)
    body = openai_server.last_request.body
    assert body["model"] == "text-embedding-3-small" and body["dimensions"] == 16


def test_texts_are_sent_in_batches(openai_server: FakeOpenAIServer) -> None:
    emb = embeddings(openai_server, chunk_size=2, dimensions=8)
    texts = [f"text {i}" for i in range(5)]
    vectors = emb.embed_documents(texts)
    assert len(vectors) == 5
    assert [r.body["input"] for r in openai_server.requests_to(EMBED)] == [
        ["text 0", "text 1"],
        ["text 2", "text 3"],
        ["text 4"],
    ]
    assert vectors[4] == pytest.approx(fake_embedding("text 4", 8), abs=1e-6)


def test_without_dimensions_the_model_decides(openai_server: FakeOpenAIServer) -> None:
    vector = embeddings(openai_server).embed_query("hello")
    assert len(vector) == 1536
    assert "dimensions" not in openai_server.last_request.body


def test_a_server_ignoring_dimensions_is_reported(
    openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    emb = embeddings(openai_server, dimensions=8)
    monkeypatch.setattr(emb, "_request", lambda batch: {"model": emb.model, "input": batch})
    with pytest.raises(RetrievalError, match=r"asked .* for 8-dimension vectors.*\[1536\]"):
        emb.embed_documents(["hello"])


def test_empty_list_makes_no_request(openai_server: FakeOpenAIServer) -> None:
    assert embeddings(openai_server).embed_documents([]) == []
    assert openai_server.requests == []


def test_bad_input_and_settings() -> None:
    emb = OpenAIEmbeddings(base_url="http://127.0.0.1:9/v1")
    with pytest.raises(RetrievalError, match="item 0 is a int"):
        emb.embed_documents([1])  # type: ignore[list-item]
    with pytest.raises(RetrievalError, match="query as a string"):
        emb.embed_query(None)  # type: ignore[arg-type]
    for kwargs in ({"dimensions": 0}, {"chunk_size": 0}, {"model": ""}, {"max_retries": -1}):
        with pytest.raises(ConfigError):
            OpenAIEmbeddings(**kwargs)  # type: ignore[arg-type]


def test_retries_honour_retry_after(openai_server: FakeOpenAIServer) -> None:
    openai_server.rate_limit(2, retry_after=0.2, path=EMBED)
    assert len(embeddings(openai_server, max_retries=2).embed_query("hi")) == 1536
    times = [r.received_at for r in openai_server.requests_to(EMBED)]
    assert len(times) == 3
    assert all(b - a >= 0.2 for a, b in itertools.pairwise(times))


def test_async_retries_and_giving_up(openai_server: FakeOpenAIServer) -> None:
    openai_server.server_error(None, path=EMBED)
    with pytest.raises(openai.InternalServerError) as info:
        asyncio.run(embeddings(openai_server, max_retries=1).aembed_query("hi"))
    assert len(openai_server.requests_to(EMBED)) == 2
    assert "chainviz: gave up after 2 attempts" in info.value.__notes__


def test_no_key_and_no_url_suggests_the_offline_embedding() -> None:
    with pytest.raises(ModelConfigurationError) as info:
        OpenAIEmbeddings().embed_query("hi")
    message = str(info.value)
    assert "OPENAI_API_KEY" in message and "base_url" in message
    assert "chainviz.retrieval.HashingEmbeddings()" in message


def test_a_base_url_alone_works(openai_server: FakeOpenAIServer) -> None:
    OpenAIEmbeddings(base_url=openai_server.base_url).embed_query("hi")
    assert openai_server.last_request.api_key == "not-needed"


def test_the_key_is_hidden_from_errors_repr_and_pickles(openai_server: FakeOpenAIServer) -> None:
    emb = embeddings(openai_server, max_retries=0)
    openai_server.unauthorized(path=EMBED)
    with pytest.raises(openai.AuthenticationError) as info:
        emb.embed_query("hi")
    error = info.value
    shown = [str(error), repr(error.args), repr(error.body), *error.__notes__, error.response.text]
    shown += [repr(emb), repr(vars(emb)), repr(dict(error.request.headers))]
    assert all(KEY not in text for text in shown)
    assert KEY.encode() not in pickle.dumps(emb)


# ------------------------------------------------------------- inside a retriever


def test_in_a_retriever_errors_name_the_step(openai_server: FakeOpenAIServer, mode: str) -> None:
    emb = embeddings(openai_server, dimensions=8, timeout=0.2, max_retries=0)
    store = FAISS.from_texts(["harrison worked at kensho"], emb)
    openai_server.slow(2.0, path=EMBED)
    chain = RunnableParallel(context=store.as_retriever())
    with pytest.raises(StepTimeout) as info:
        run(mode, chain, "where did harrison work?")
    assert str(info.value).startswith("Step 'context' (OpenAIEmbeddings) got no answer")
    assert info.value.node_id == "context"


def test_in_a_retriever_stop_ends_the_retry_wait(openai_server: FakeOpenAIServer) -> None:
    emb = embeddings(openai_server, dimensions=8)
    retriever = FAISS.from_texts(["harrison worked at kensho"], emb).as_retriever()
    openai_server.rate_limit(1, retry_after=30, path=EMBED)
    token = CancelToken()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            retriever.invoke("where?", cancel_token=token)
        except BaseException as exc:
            outcome["error"] = exc
        outcome["ended"] = time.monotonic()

    thread = threading.Thread(target=target)
    thread.start()
    deadline = time.monotonic() + 5
    while len(openai_server.requests_to(EMBED)) < 2:  # from_texts, then the query
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.05)
    cancelled_at = time.monotonic()
    token.cancel("Stop")
    thread.join(5)
    assert isinstance(outcome["error"], RunCancelled)
    assert outcome["ended"] - cancelled_at < 0.5

"""``OpenAIEmbeddings``: embeddings from OpenAI or any OpenAI-compatible server.

Key, URL, timeout and retries work exactly as for
:class:`~chainviz.models.ChatOpenAI` (they share
:mod:`chainviz.models.openai_client`): ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``
read at call time, a ``base_url`` alone is enough, the key appears in no error,
``max_retries`` retries waiting at least ``Retry-After``. Inside a retriever step
the waits end at once on Stop and errors name the step.

Texts are sent in batches of ``chunk_size``; ``dimensions`` asks the
``text-embedding-3`` models for shorter vectors.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from chainviz.errors import ConfigError, RetrievalError, describe_step
from chainviz.models.openai_client import OpenAIClientConfig, display_url
from chainviz.models.openai_errors import CallContext
from chainviz.retrieval.checks import check_query, check_texts
from chainviz.retrieval.embeddings import current_step

__all__ = ["OpenAIEmbeddings"]


class OpenAIEmbeddings(OpenAIClientConfig):
    """Embeddings from an OpenAI-compatible ``/embeddings`` endpoint.

    :param model: the embedding model.
    :param dimensions: the vector length to ask for (``text-embedding-3-*`` only);
        None: the model's own.
    :param chunk_size: at most this many texts per request.
    :param timeout: seconds per request before a :class:`~chainviz.errors.StepTimeout`.
    :param max_retries: retries of a rate-limited, failed or timed-out request.
    :param api_key: the key; default ``OPENAI_API_KEY``, read at call time.
    :param base_url: the server; default ``OPENAI_BASE_URL``, else OpenAI.
    """

    _offline_alternative = "chainviz.retrieval.HashingEmbeddings()"

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        *,
        dimensions: int | None = None,
        chunk_size: int = 1000,
        timeout: float | None = None,
        max_retries: int = 2,
        api_key: str | None = None,
        base_url: str | None = None,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise ConfigError(f"OpenAIEmbeddings needs model to be a model name, not {model!r}.")
        for field, value in (("dimensions", dimensions), ("chunk_size", chunk_size)):
            if value is None and field == "dimensions":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(
                    f"OpenAIEmbeddings needs {field} to be a positive int, not {value!r}."
                )
        self._init_client_config(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )
        self.model = model
        self.dimensions = dimensions
        self.chunk_size = chunk_size

    def _context(self) -> CallContext:
        step = current_step()
        node_id = step.node_id if step is not None else None
        where = describe_step(node_id, type(self).__name__)
        return CallContext(where, node_id, self._resolve(where), self.max_retries, step)

    def _request(self, batch: list[str]) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.model, "input": batch}
        if self.dimensions is not None:
            request["dimensions"] = self.dimensions
        return request

    def _batches(self, texts: list[str]) -> list[list[str]]:
        size = self.chunk_size
        return [texts[i : i + size] for i in range(0, len(texts), size)]

    def _vectors(self, response: Any, batch: list[str], call: CallContext) -> list[list[float]]:
        data = sorted(response.data, key=lambda item: item.index)
        vectors = [list(item.embedding) for item in data]
        if len(vectors) != len(batch):
            raise RetrievalError(
                f"{call.where} sent {len(batch)} texts to {call.resolved.url} but got "
                f"{len(vectors)} vectors back.",
                node_id=call.node_id,
            )
        lengths = {len(v) for v in vectors}
        expected = {self.dimensions} if self.dimensions is not None else lengths
        if len(lengths) > 1 or lengths != expected:
            raise RetrievalError(
                f"{call.where} asked {call.resolved.url} for {self.dimensions}-dimension "
                f"vectors of model {self.model!r} but got lengths {sorted(lengths)}; "
                "the server may not support the dimensions parameter.",
                node_id=call.node_id,
            )
        return vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, requested ``chunk_size`` texts at a time."""
        texts = check_texts(texts, "OpenAIEmbeddings.embed_documents")
        if not texts:
            return []
        call = self._context()
        client = self._sync_client(call.resolved)
        vectors: list[list[float]] = []
        for batch in self._batches(texts):
            response = call.run(partial(client.embeddings.create, **self._request(batch)))
            vectors += self._vectors(response, batch, call)
        return vectors

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """The async twin of :meth:`embed_documents`."""
        texts = check_texts(texts, "OpenAIEmbeddings.aembed_documents")
        if not texts:
            return []
        call = self._context()
        client = await self._async_client(call.resolved)
        vectors: list[list[float]] = []
        for batch in self._batches(texts):
            create = partial(client.embeddings.create, **self._request(batch))
            response = await call.arun(create)
            vectors += self._vectors(response, batch, call)
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([check_query(text, "OpenAIEmbeddings.embed_query")])[0]

    async def aembed_query(self, text: str) -> list[float]:
        text = check_query(text, "OpenAIEmbeddings.aembed_query")
        return (await self.aembed_documents([text]))[0]

    def __repr__(self) -> str:
        shown = [f"model={self.model!r}"]
        if self.dimensions is not None:
            shown.append(f"dimensions={self.dimensions}")
        if self.base_url:
            shown.append(f"base_url={display_url(self.base_url)!r}")
        return f"OpenAIEmbeddings({', '.join(shown)})"

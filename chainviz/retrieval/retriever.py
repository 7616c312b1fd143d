"""``VectorStoreRetriever``: a vector store as a step of a chain (query string in, documents out).

It is a leaf step of kind ``retriever`` that takes a ``max_concurrency`` slot,
like a model call: with a remote embedding every query is a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chainviz.core.base import Runnable
from chainviz.core.run import Step
from chainviz.errors import ConfigError, describe_node
from chainviz.messages import Document
from chainviz.retrieval.checks import check_k, check_query
from chainviz.retrieval.embeddings import running_in

if TYPE_CHECKING:
    from chainviz.retrieval.faiss_store import FAISS

__all__ = ["SEARCH_TYPES", "VectorStoreRetriever"]

#: The search types and the ``search_kwargs`` each accepts (the first ones are required).
SEARCH_TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "similarity": ((), ("k",)),
    "similarity_score_threshold": (("score_threshold",), ("k",)),
}


class VectorStoreRetriever(Runnable[str, list[Document]]):
    """Finds the documents of ``vectorstore`` most similar to the input query."""

    kind = "retriever"
    uses_slot = True

    def __init__(
        self,
        vectorstore: FAISS,
        *,
        search_type: str = "similarity",
        search_kwargs: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        self.vectorstore = vectorstore
        self.search_type = search_type
        self.search_kwargs: dict[str, Any] = dict(search_kwargs or {})
        self.name = name
        _check_search(search_type, self.search_kwargs)

    def _search(self, step: Step) -> tuple[int, float | None]:
        # Checked again at run time: configurable_fields / with_replaced may have changed them.
        _check_search(self.search_type, self.search_kwargs, step.node_id)
        threshold = self.search_kwargs.get("score_threshold")
        return self.search_kwargs.get("k", 4), threshold

    def _where(self, step: Step) -> str:
        return f"The retriever at {describe_node(step.node_id)}"

    def _call(self, input: Any, step: Step) -> list[Document]:
        query = check_query(input, self._where(step), node_id=step.node_id)
        k, threshold = self._search(step)
        with running_in(step):
            found = self.vectorstore.similarity_search_with_score(query, k)
        return _keep(found, threshold)

    async def _acall(self, input: Any, step: Step) -> list[Document]:
        query = check_query(input, self._where(step), node_id=step.node_id)
        k, threshold = self._search(step)
        with running_in(step):
            found = await self.vectorstore.asimilarity_search_with_score(query, k)
        return _keep(found, threshold)

    def get_name(self) -> str:
        return self.name or "VectorStoreRetriever"

    def __repr__(self) -> str:
        extra = "" if self.search_type == "similarity" else f"search_type={self.search_type!r}, "
        store = repr(self.vectorstore)
        return f"VectorStoreRetriever({store}, {extra}search_kwargs={self.search_kwargs})"


def _keep(found: list[tuple[Document, float]], threshold: float | None) -> list[Document]:
    return [doc for doc, score in found if threshold is None or score >= threshold]


def _check_search(search_type: str, kwargs: Mapping[str, Any], node_id: str | None = None) -> None:
    where = "as_retriever" if node_id is None else f"The retriever at {describe_node(node_id)}"
    if search_type not in SEARCH_TYPES:
        raise ConfigError(
            f"{where}: search_type {search_type!r} is not supported; use one of "
            f"{', '.join(map(repr, SEARCH_TYPES))}.",
            node_id=node_id,
        )
    required, optional = SEARCH_TYPES[search_type]
    allowed = required + optional
    unknown = [key for key in kwargs if key not in allowed]
    missing = [key for key in required if key not in kwargs]
    if unknown or missing:
        problem = (
            f"unknown search_kwargs {', '.join(map(repr, unknown))}"
            if unknown
            else f"search_kwargs needs {', '.join(map(repr, missing))}"
        )
        raise ConfigError(
            f"{where}: {problem} for search_type {search_type!r}; it accepts "
            f"{', '.join(map(repr, allowed))}.",
            node_id=node_id,
        )
    if "k" in kwargs:
        check_k(kwargs["k"], f"{where}" if node_id else "as_retriever")
    threshold = kwargs.get("score_threshold")
    if threshold is not None and (
        not isinstance(threshold, (int, float)) or isinstance(threshold, bool)
    ):
        raise ConfigError(
            f"{where}: score_threshold must be a number (a cosine similarity, at most 1), "
            f"but {threshold!r} was given.",
            node_id=node_id,
        )

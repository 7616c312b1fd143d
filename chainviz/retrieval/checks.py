"""Checks of what retrieval is given: texts, queries, k, documents, metadata and ids.

Each failure is a :class:`~chainviz.errors.RetrievalError` whose message says
what was expected and what was given (and, for a list, at which position).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from chainviz.errors import RetrievalError
from chainviz.messages import Document

__all__ = [
    "check_documents",
    "check_k",
    "check_metadatas",
    "check_query",
    "check_texts",
    "duplicates",
    "non_empty_texts",
]


def check_texts(texts: Any, where: str) -> list[str]:
    """``texts`` as a list of strings, or a :class:`RetrievalError` naming the bad item."""
    if isinstance(texts, str):
        raise RetrievalError(
            f"{where} expects a list of strings, but a single string was given; "
            f"wrap it in a list: [{texts!r:.40}]."
        )
    if not isinstance(texts, Sequence):
        try:
            texts = list(texts)
        except TypeError:
            raise RetrievalError(
                f"{where} expects a list of strings, but a {type(texts).__name__} was given."
            ) from None
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise RetrievalError(
                f"{where} expects a list of strings, but item {index} is a "
                f"{type(text).__name__} ({text!r:.40})."
            )
    return list(texts)


def check_query(query: Any, where: str, *, node_id: str | None = None) -> str:
    """``query`` if it is a string, else a :class:`RetrievalError` saying what was given."""
    if not isinstance(query, str):
        hint = ""
        if isinstance(query, dict):
            hint = (
                " A dict usually means the retriever was given the whole chain input; "
                "pick the question out first, e.g. with operator.itemgetter('question')."
            )
        raise RetrievalError(
            f"{where} expects the query as a string, but a {type(query).__name__} "
            f"({query!r:.60}) was given.{hint}",
            node_id=node_id,
        )
    return query


def check_k(k: Any, where: str = "The search") -> int:
    """``k`` if it is a positive int, else a :class:`RetrievalError` saying what was given."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise RetrievalError(
            f"{where} needs k, the number of documents to return, to be a positive int, "
            f"but {k!r} was given."
        )
    return k


def non_empty_texts(texts: Any, where: str) -> list[str]:
    checked = check_texts(texts, where)
    if not checked:
        raise RetrievalError(
            f"{where} needs at least one text to index, but an empty list was given."
        )
    return checked


def check_documents(documents: Any, where: str) -> list[Document]:
    checked: list[Document] = list(documents)
    for index, doc in enumerate(checked):
        if not isinstance(doc, Document):
            raise RetrievalError(
                f"{where} expects chainviz.messages.Document objects, but item {index} is a "
                f"{type(doc).__name__}; for plain strings use FAISS.from_texts / add_texts."
            )
    return checked


def check_metadatas(
    metadatas: Sequence[Mapping[str, Any] | None] | None, count: int
) -> list[Mapping[str, Any]]:
    if metadatas is None:
        return [{}] * count
    metas = list(metadatas)
    if len(metas) != count:
        raise RetrievalError(
            f"FAISS got {count} texts but {len(metas)} metadatas; give one metadata dict per text."
        )
    for index, meta in enumerate(metas):
        if meta is not None and not isinstance(meta, Mapping):
            raise RetrievalError(
                f"Each metadata must be a dict, but item {index} is a {type(meta).__name__}."
            )
    return [meta or {} for meta in metas]


def duplicates(ids: list[str]) -> list[str]:
    return sorted(ident for ident, count in Counter(ids).items() if count > 1)

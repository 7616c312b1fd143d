"""Retrieval: embeddings, a FAISS vector store, and the retriever step built from it.

* :class:`HashingEmbeddings` — the offline default: deterministic, numpy only,
  *lexical* (it matches shared words and word pieces, not meaning).
* :class:`OpenAIEmbeddings` — OpenAI or any OpenAI-compatible server (extra ``openai``).
* :class:`FAISS` — ``from_texts`` / ``from_documents``, ``similarity_search``,
  ``as_retriever()``, ``save_local`` / ``load_local`` (no pickle).

Importing this package loads neither numpy nor faiss; the classes are imported
on first use, and a missing package raises an error with the ``pip install`` line
(``pip install 'chainviz[retrieval]'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainviz.retrieval.embeddings import Embeddings

if TYPE_CHECKING:
    from chainviz.retrieval.faiss_store import FAISS
    from chainviz.retrieval.hashing import HashingEmbeddings
    from chainviz.retrieval.openai_embeddings import OpenAIEmbeddings
    from chainviz.retrieval.retriever import VectorStoreRetriever

__all__ = [
    "FAISS",
    "Embeddings",
    "HashingEmbeddings",
    "OpenAIEmbeddings",
    "VectorStoreRetriever",
]

_LAZY = {
    "FAISS": "chainviz.retrieval.faiss_store",
    "HashingEmbeddings": "chainviz.retrieval.hashing",
    "OpenAIEmbeddings": "chainviz.retrieval.openai_embeddings",
    "VectorStoreRetriever": "chainviz.retrieval.retriever",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'chainviz.retrieval' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

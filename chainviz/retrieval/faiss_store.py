"""``FAISS``: an in-memory vector store on ``faiss-cpu``, with LangChain's constructors.

Vectors are L2-normalised and kept in an exact ``IndexFlatIP``, so a search
ranks documents by **cosine similarity** and the score returned with each
document is that cosine (higher is closer; 1.0 for the same direction). Exact
search over a flat index is what a notebook needs: no training, no recall loss,
and tens of thousands of documents are searched in milliseconds.

Saving writes two files — the FAISS index (``faiss.write_index``) and the
documents as JSON — and loading reads them back without unpickling anything,
so loading a store someone sent you cannot run their code.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chainviz.errors import RetrievalError
from chainviz.messages import Document
from chainviz.retrieval._extras import faiss_module, numpy_module
from chainviz.retrieval.checks import (
    check_documents,
    check_k,
    check_metadatas,
    check_query,
    check_texts,
    duplicates,
    non_empty_texts,
)
from chainviz.retrieval.embeddings import Embeddings, aembed_documents, aembed_query

if TYPE_CHECKING:
    from chainviz.retrieval.retriever import VectorStoreRetriever

__all__ = ["FAISS"]

# Searches over more vectors than this leave the event loop for a thread under asimilarity_*.
_THREAD_SEARCH_CELLS = 4_000_000


class FAISS:
    """Documents and their vectors, searchable by similarity to a query.

    Build one with :meth:`from_texts` or :meth:`from_documents`; search it with
    :meth:`similarity_search`; put it in a chain with :meth:`as_retriever`.
    ``FAISS(embedding)`` makes an empty store that :meth:`add_texts` fills.
    Adding and searching are safe from several threads at once.
    """

    def __init__(self, embedding: Embeddings) -> None:
        for method in ("embed_documents", "embed_query"):
            if not callable(getattr(embedding, method, None)):
                raise RetrievalError(
                    f"FAISS needs an embedding object with embed_documents and embed_query "
                    f"(such as chainviz.retrieval.HashingEmbeddings), but a "
                    f"{type(embedding).__name__} has no {method}."
                )
        self.embedding_function = embedding
        self._index: Any = None  # made on the first add, when the dimension is known
        self._documents: list[Document] = []
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ building

    @classmethod
    def from_texts(
        cls,
        texts: Sequence[str],
        embedding: Embeddings,
        metadatas: Sequence[Mapping[str, Any] | None] | None = None,
        *,
        ids: Sequence[str] | None = None,
    ) -> FAISS:
        """A store of ``texts`` (and ``metadatas``, one per text), embedded by ``embedding``."""
        texts = non_empty_texts(texts, "FAISS.from_texts")
        store = cls(embedding)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    @classmethod
    async def afrom_texts(
        cls,
        texts: Sequence[str],
        embedding: Embeddings,
        metadatas: Sequence[Mapping[str, Any] | None] | None = None,
        *,
        ids: Sequence[str] | None = None,
    ) -> FAISS:
        """The async twin of :meth:`from_texts`."""
        texts = non_empty_texts(texts, "FAISS.afrom_texts")
        store = cls(embedding)
        await store.aadd_texts(texts, metadatas, ids=ids)
        return store

    @classmethod
    def from_documents(
        cls,
        documents: Sequence[Document],
        embedding: Embeddings,
        *,
        ids: Sequence[str] | None = None,
    ) -> FAISS:
        """A store holding ``documents`` (their ``page_content`` is what gets embedded)."""
        documents = check_documents(documents, "FAISS.from_documents")
        if not documents:
            raise RetrievalError(
                "FAISS.from_documents needs at least one document, but an empty list was given."
            )
        store = cls(embedding)
        store.add_documents(documents, ids=ids)
        return store

    @classmethod
    def from_embeddings(
        cls,
        text_embeddings: Iterable[tuple[str, Sequence[float]]],
        embedding: Embeddings,
        metadatas: Sequence[Mapping[str, Any] | None] | None = None,
        *,
        ids: Sequence[str] | None = None,
    ) -> FAISS:
        """A store from texts whose vectors were computed already (``embedding`` embeds queries)."""
        pairs = list(text_embeddings)
        texts = non_empty_texts([text for text, _ in pairs], "FAISS.from_embeddings")
        store = cls(embedding)
        store._add(texts, [vector for _, vector in pairs], metadatas, ids)
        return store

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: Sequence[Mapping[str, Any] | None] | None = None,
        *,
        ids: Sequence[str] | None = None,
    ) -> list[str]:
        """Embed and add ``texts``; returns their ids (as given, else ``"0"``, ``"1"``, …)."""
        texts = check_texts(texts, "FAISS.add_texts")
        if not texts:
            return []
        vectors = self.embedding_function.embed_documents(texts)
        return self._add(texts, vectors, metadatas, ids)

    async def aadd_texts(
        self,
        texts: Iterable[str],
        metadatas: Sequence[Mapping[str, Any] | None] | None = None,
        *,
        ids: Sequence[str] | None = None,
    ) -> list[str]:
        """The async twin of :meth:`add_texts`."""
        texts = check_texts(texts, "FAISS.aadd_texts")
        if not texts:
            return []
        vectors = await aembed_documents(self.embedding_function, texts)
        return self._add(texts, vectors, metadatas, ids)

    def add_documents(
        self, documents: Sequence[Document], *, ids: Sequence[str] | None = None
    ) -> list[str]:
        """Embed and add ``documents``; a document's own ``id`` is kept unless ``ids`` is given."""
        documents = check_documents(documents, "FAISS.add_documents")
        if ids is None and any(d.id is not None for d in documents):
            ids = [d.id if d.id is not None else "" for d in documents]
        return self.add_texts(
            [d.page_content for d in documents], [d.metadata for d in documents], ids=ids
        )

    def _add(
        self,
        texts: list[str],
        vectors: Any,
        metadatas: Sequence[Mapping[str, Any] | None] | None,
        ids: Sequence[str] | None,
    ) -> list[str]:
        np = numpy_module()
        metas = check_metadatas(metadatas, len(texts))
        matrix = self._as_matrix(vectors, len(texts), "embed_documents")
        with self._lock:
            new_ids = self._new_ids(ids, len(texts))
            if self._index is None:
                self._index = faiss_module().IndexFlatIP(matrix.shape[1])
            self._index.add(np.ascontiguousarray(matrix))
            self._documents.extend(
                Document(text, dict(meta), id=ident)
                for text, meta, ident in zip(texts, metas, new_ids)
            )
            self._ids.update(new_ids)
        return new_ids

    def _new_ids(self, ids: Sequence[str] | None, count: int) -> list[str]:
        """The ids for ``count`` new documents (caller holds the lock)."""
        start = len(self._documents)
        if ids is None:
            new = [str(start + i) for i in range(count)]
        else:
            new = list(ids)
            if len(new) != count:
                raise RetrievalError(
                    f"FAISS got {count} texts but {len(new)} ids; give one id per text."
                )
            # Empty ids (documents without one) get their position, like unnamed texts.
            new = [ident or str(start + i) for i, ident in enumerate(new)]
        for ident in new:
            if not isinstance(ident, str):
                raise RetrievalError(
                    f"FAISS document ids must be strings, but {ident!r} was given."
                )
        clashes = sorted(self._ids.intersection(new)) or duplicates(new)
        if clashes:
            raise RetrievalError(
                f"FAISS document ids must be unique, but {', '.join(map(repr, clashes[:5]))} "
                "would be used twice."
            )
        return new

    def _as_matrix(self, vectors: Any, count: int, source: str) -> Any:
        """The embedding's output as a normalised float32 matrix, checked against the index."""
        np = numpy_module()
        name = type(self.embedding_function).__name__
        try:
            matrix = np.asarray(vectors, dtype=np.float32)
        except (ValueError, TypeError) as exc:
            raise RetrievalError(
                f"{name}.{source} returned vectors of different lengths or non-numbers; "
                f"every vector must be a list of floats of the same length ({exc})."
            ) from exc
        if matrix.ndim != 2 or matrix.shape[0] != count or matrix.shape[1] == 0:
            raise RetrievalError(
                f"{name}.{source} should return {count} non-empty vector(s), but returned "
                f"an array of shape {matrix.shape}."
            )
        expected = self.dimension
        if expected is not None and matrix.shape[1] != expected:
            raise RetrievalError(
                f"This FAISS store holds vectors of dimension {expected}, but "
                f"{name}.{source} returned vectors of dimension {matrix.shape[1]}. "
                "Search and add with the embedding (and dimensions) the store was built with."
            )
        if not np.isfinite(matrix).all():
            raise RetrievalError(f"{name}.{source} returned a vector containing NaN or infinity.")
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        norms[norms == 0.0] = 1.0
        return matrix / norms

    # ----------------------------------------------------------------- searching

    def similarity_search(self, query: str, k: int = 4) -> list[Document]:
        """The ``k`` documents most similar to ``query`` (all of them if the store has fewer)."""
        return [doc for doc, _ in self.similarity_search_with_score(query, k)]

    def similarity_search_with_score(self, query: str, k: int = 4) -> list[tuple[Document, float]]:
        """Like :meth:`similarity_search`, with each document's cosine similarity to the query."""
        query = check_query(query, "FAISS.similarity_search")
        check_k(k)
        if self._index is None:
            return []
        return self.similarity_search_with_score_by_vector(
            self.embedding_function.embed_query(query), k
        )

    async def asimilarity_search(self, query: str, k: int = 4) -> list[Document]:
        """The async twin of :meth:`similarity_search`."""
        return [doc for doc, _ in await self.asimilarity_search_with_score(query, k)]

    async def asimilarity_search_with_score(
        self, query: str, k: int = 4
    ) -> list[tuple[Document, float]]:
        """The async twin of :meth:`similarity_search_with_score`."""
        query = check_query(query, "FAISS.asimilarity_search")
        check_k(k)
        if self._index is None:
            return []
        vector = await aembed_query(self.embedding_function, query)
        if len(self) * (self.dimension or 0) > _THREAD_SEARCH_CELLS:
            return await asyncio.to_thread(self.similarity_search_with_score_by_vector, vector, k)
        return self.similarity_search_with_score_by_vector(vector, k)

    def similarity_search_by_vector(self, embedding: Sequence[float], k: int = 4) -> list[Document]:
        """The ``k`` documents nearest to a query vector."""
        return [doc for doc, _ in self.similarity_search_with_score_by_vector(embedding, k)]

    def similarity_search_with_score_by_vector(
        self, embedding: Sequence[float], k: int = 4
    ) -> list[tuple[Document, float]]:
        """The ``k`` documents nearest to a query vector, with their cosine similarities."""
        check_k(k)
        if self._index is None:
            return []
        query = self._as_matrix([embedding], 1, "embed_query")
        with self._lock:
            count = self._index.ntotal
            scores, rows = self._index.search(query, min(k, count))
            documents = self._documents
        return [
            (documents[row], float(score))
            for score, row in zip(scores[0], rows[0])
            if row >= 0
        ]

    def as_retriever(
        self,
        *,
        search_type: str = "similarity",
        search_kwargs: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> VectorStoreRetriever:
        """This store as a runnable step: a query string in, a list of documents out.

        ``search_kwargs``: ``k`` (default 4); with ``search_type="similarity_score_threshold"``
        also ``score_threshold``, the least cosine similarity a document needs.
        """
        from chainviz.retrieval.retriever import VectorStoreRetriever

        return VectorStoreRetriever(
            self, search_type=search_type, search_kwargs=search_kwargs, name=name
        )

    # ------------------------------------------------------------------ contents

    @property
    def embeddings(self) -> Embeddings:
        """The embedding that turns texts and queries into vectors."""
        return self.embedding_function

    @property
    def dimension(self) -> int | None:
        """The length of the stored vectors (None while the store is empty)."""
        return None if self._index is None else int(self._index.d)

    @property
    def documents(self) -> tuple[Document, ...]:
        """Every stored document, in the order they were added."""
        return tuple(self._documents)

    def __len__(self) -> int:
        return len(self._documents)

    def __repr__(self) -> str:
        return (
            f"FAISS({len(self)} documents, dimension={self.dimension}, "
            f"embedding={self.embedding_function!r})"
        )

    # --------------------------------------------------------------- persistence

    def save_local(self, folder_path: str | Path, index_name: str = "index") -> None:
        """Write ``<index_name>.faiss`` and ``<index_name>.json`` into ``folder_path``."""
        from chainviz.retrieval.faiss_files import save

        with self._lock:
            save(Path(folder_path), index_name, self._index, list(self._documents))

    @classmethod
    def load_local(
        cls,
        folder_path: str | Path,
        embeddings: Embeddings,
        index_name: str = "index",
        *,
        allow_dangerous_deserialization: bool = False,
    ) -> FAISS:
        """Read a store written by :meth:`save_local`; ``embeddings`` embeds later queries.

        Nothing is unpickled, so this is safe on files from anyone;
        ``allow_dangerous_deserialization`` is accepted for LangChain code and ignored.
        """
        from chainviz.retrieval.faiss_files import load

        del allow_dangerous_deserialization  # nothing dangerous is ever done
        index, documents = load(Path(folder_path), index_name)
        store = cls(embeddings)
        store._index = index
        store._documents = documents
        store._ids = {d.id for d in documents if d.id is not None}
        return store

    def __getstate__(self) -> dict[str, Any]:
        # A FAISS index pickles (as its serialised bytes); the lock does not and need not.
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

"""FAISS store: building, searching, bad input, threads, pickling."""

from __future__ import annotations

import asyncio
import pickle
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainviz.errors import RetrievalError
from chainviz.messages import Document
from chainviz.retrieval import FAISS, HashingEmbeddings

TEXTS = [
    "harrison worked at kensho",
    "bears hibernate in winter",
    "paris is the capital of france",
    "python is a programming language",
]


class FixedEmbeddings:
    """Returns vectors chosen by the test; queries look up the same table."""

    def __init__(self, table: dict[str, list[float]], query_dim: int | None = None) -> None:
        self.table = table
        self.query_dim = query_dim

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.table[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        vector = self.table[text]
        return vector if self.query_dim is None else [1.0] * self.query_dim


@pytest.fixture
def store() -> FAISS:
    return FAISS.from_texts(TEXTS, HashingEmbeddings(), metadatas=[{"n": i} for i in range(4)])


def test_seed_example_one_document_default_k() -> None:
    vectorstore = FAISS.from_texts(["harrison worked at kensho"], embedding=HashingEmbeddings())
    docs = vectorstore.similarity_search("where did harrison work?")  # k=4 > 1 document
    assert docs == [Document("harrison worked at kensho", {}, id="0")]


def test_best_match_first_with_descending_cosine_scores(store: FAISS) -> None:
    found = store.similarity_search_with_score("where did harrison work?", k=4)
    assert found[0][0].page_content == "harrison worked at kensho"
    assert found[0][0].metadata == {"n": 0}
    scores = [score for _, score in found]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 <= s <= 1.0 + 1e-6 for s in scores)


def test_k_larger_than_the_store_returns_everything(store: FAISS) -> None:
    assert len(store.similarity_search("anything", k=100)) == 4
    assert len(store.similarity_search("anything", k=2)) == 2


def test_the_same_text_scores_one(store: FAISS) -> None:
    (doc, score), *_ = store.similarity_search_with_score("bears hibernate in winter", k=1)
    assert doc.page_content == "bears hibernate in winter"
    assert score == pytest.approx(1.0, abs=1e-5)


def test_add_texts_returns_ids_and_extends_the_store(store: FAISS) -> None:
    ids = store.add_texts(["coffee contains caffeine"], [{"topic": "drinks"}])
    assert ids == ["4"]
    assert len(store) == 5
    assert store.similarity_search("caffeine", k=1)[0] == Document(
        "coffee contains caffeine", {"topic": "drinks"}, id="4"
    )
    assert store.add_texts([]) == []


def test_from_documents_keeps_metadata_and_ids() -> None:
    docs = [Document("alpha beta", {"src": "a"}, id="doc-a"), Document("gamma delta", {})]
    store = FAISS.from_documents(docs, HashingEmbeddings())
    assert [d.id for d in store.documents] == ["doc-a", "1"]
    assert store.similarity_search("alpha", k=1)[0] == docs[0]


def test_explicit_ids_must_be_unique(store: FAISS) -> None:
    with pytest.raises(RetrievalError, match=r"unique.*'0'"):
        store.add_texts(["again"], ids=["0"])
    with pytest.raises(RetrievalError, match=r"unique.*'x'"):
        FAISS.from_texts(["a", "b"], HashingEmbeddings(), ids=["x", "x"])
    with pytest.raises(RetrievalError, match="2 texts but 1 ids"):
        FAISS.from_texts(["a", "b"], HashingEmbeddings(), ids=["x"])


def test_async_twins_match(store: FAISS) -> None:
    query = "where did harrison work?"
    assert asyncio.run(store.asimilarity_search(query, k=2)) == store.similarity_search(query, 2)
    built = asyncio.run(FAISS.afrom_texts(TEXTS, HashingEmbeddings()))
    assert [d.page_content for d in built.documents] == TEXTS


def test_an_embedding_with_only_sync_methods_works_async() -> None:
    emb = FixedEmbeddings({"a": [1.0, 0.0], "b": [0.0, 1.0]})
    store = asyncio.run(FAISS.afrom_texts(["a", "b"], emb))  # type: ignore[arg-type]
    assert asyncio.run(store.asimilarity_search("b", k=1))[0].page_content == "b"


# ------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("texts", [[], ()])
def test_empty_text_list_is_refused(texts: Any) -> None:
    with pytest.raises(RetrievalError, match=r"at least one text.*empty list"):
        FAISS.from_texts(texts, HashingEmbeddings())
    with pytest.raises(RetrievalError, match="at least one document"):
        FAISS.from_documents(texts, HashingEmbeddings())


@pytest.mark.parametrize("k", [0, -1, 1.5, "2", True, None])
def test_k_must_be_a_positive_int(store: FAISS, k: Any) -> None:
    with pytest.raises(RetrievalError, match=r"k, the number of documents.*positive int"):
        store.similarity_search("harrison", k=k)


@pytest.mark.parametrize("query", [None, 42, ["where"], {"question": "where"}])
def test_query_must_be_a_string(store: FAISS, query: Any) -> None:
    with pytest.raises(RetrievalError, match="query as a string"):
        store.similarity_search(query)


def test_query_of_the_wrong_dimension_is_refused() -> None:
    emb = FixedEmbeddings({"a": [1.0, 0.0, 0.0], "b": [0.0, 1.0, 0.0]}, query_dim=5)
    store = FAISS.from_texts(["a", "b"], emb)  # type: ignore[arg-type]
    with pytest.raises(RetrievalError, match=r"dimension 3.*dimension 5"):
        store.similarity_search("a")
    with pytest.raises(RetrievalError, match=r"dimension 3.*dimension 2"):
        store.similarity_search_by_vector([1.0, 0.0])


def test_documents_of_the_wrong_dimension_are_refused() -> None:
    store = FAISS.from_texts(["one"], HashingEmbeddings(dimensions=16))
    store.embedding_function = HashingEmbeddings(dimensions=32)
    with pytest.raises(RetrievalError, match=r"dimension 16.*dimension 32"):
        store.add_texts(["two"])
    assert len(store) == 1


def test_ragged_or_missing_vectors_are_refused() -> None:
    ragged = FixedEmbeddings({"a": [1.0, 0.0], "b": [1.0]})
    with pytest.raises(RetrievalError, match="different lengths"):
        FAISS.from_texts(["a", "b"], ragged)  # type: ignore[arg-type]

    class Short(FixedEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [[1.0, 0.0]]

    with pytest.raises(RetrievalError, match="should return 2"):
        FAISS.from_texts(["a", "b"], Short({}))  # type: ignore[arg-type]
    with pytest.raises(RetrievalError, match="NaN"):
        FAISS.from_texts(["a"], FixedEmbeddings({"a": [float("nan"), 1.0]}))  # type: ignore[arg-type]


def test_bad_texts_metadatas_and_embedding() -> None:
    with pytest.raises(RetrievalError, match="item 1 is a int"):
        FAISS.from_texts(["a", 2], HashingEmbeddings())  # type: ignore[list-item]
    with pytest.raises(RetrievalError, match="single string"):
        FAISS.from_texts("abc", HashingEmbeddings())  # type: ignore[arg-type]
    with pytest.raises(RetrievalError, match="2 texts but 1 metadatas"):
        FAISS.from_texts(["a", "b"], HashingEmbeddings(), metadatas=[{}])
    with pytest.raises(RetrievalError, match="item 0 is a str"):
        FAISS.from_texts(["a"], HashingEmbeddings(), metadatas=["meta"])  # type: ignore[list-item]
    with pytest.raises(RetrievalError, match="has no embed_documents"):
        FAISS.from_texts(["a"], object())  # type: ignore[arg-type]
    with pytest.raises(RetrievalError, match=r"Document objects.*item 0 is a str"):
        FAISS.from_documents(["plain"], HashingEmbeddings())  # type: ignore[list-item]


def test_an_empty_store_finds_nothing() -> None:
    store = FAISS(HashingEmbeddings())
    assert store.similarity_search("anything") == []
    assert store.dimension is None
    with pytest.raises(RetrievalError, match="positive int"):
        store.similarity_search("anything", k=0)


# ------------------------------------------------------------------- concurrency


def test_adding_and_searching_from_many_threads() -> None:
    store = FAISS.from_texts(["seed text"], HashingEmbeddings(dimensions=64))
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(20):
                store.add_texts([f"writer {n} text {i}"])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(40):
                found = store.similarity_search("writer text", k=3)
                assert all(isinstance(d, Document) for d in found)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store) == 81
    assert len({d.id for d in store.documents}) == 81


def test_pickles_with_its_index() -> None:
    store = FAISS.from_texts(TEXTS, HashingEmbeddings(dimensions=64))
    clone = pickle.loads(pickle.dumps(store))
    query = "capital of france"
    assert clone.similarity_search_with_score(query) == store.similarity_search_with_score(query)
    clone.add_texts(["more"])  # the clone has a working lock of its own
    assert len(clone) == 5 and len(store) == 4


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=1, max_value=12).flatmap(
        lambda n: st.tuples(
            st.lists(
                st.lists(st.floats(-1, 1, allow_nan=False, width=32), min_size=6, max_size=6)
                .filter(lambda v: sum(x * x for x in v) > 0.1),
                min_size=n,
                max_size=n,
            ),
            st.integers(min_value=1, max_value=20),
        )
    )
)
def test_each_vector_finds_itself_first(case: tuple[list[list[float]], int]) -> None:
    vectors, k = case
    texts = [f"t{i}" for i in range(len(vectors))]
    emb = FixedEmbeddings(dict(zip(texts, vectors)))
    store = FAISS.from_embeddings(zip(texts, vectors), emb)  # type: ignore[arg-type]
    for text, vector in zip(texts, vectors):
        found = store.similarity_search_with_score_by_vector(vector, k)
        assert len(found) == min(k, len(texts))
        best_score = found[0][1]
        assert best_score == pytest.approx(1.0, abs=1e-4)
        tied = [d.page_content for d, s in found if s >= best_score - 1e-4]
        assert text in tied or len(tied) == len(found)

"""HashingEmbeddings: deterministic, normalised, lexical, and honest about it."""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainviz.errors import ConfigError, RetrievalError
from chainviz.retrieval import Embeddings, HashingEmbeddings


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b))


def test_is_an_embeddings() -> None:
    assert isinstance(HashingEmbeddings(), Embeddings)


def test_vectors_have_the_dimension_and_unit_length() -> None:
    emb = HashingEmbeddings(dimensions=64)
    vectors = emb.embed_documents(["harrison worked at kensho", "bears hibernate"])
    assert [len(v) for v in vectors] == [64, 64]
    for vector in vectors:
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, rel_tol=1e-5)


def test_a_text_without_words_is_the_zero_vector() -> None:
    assert HashingEmbeddings(dimensions=8).embed_query("?!  ") == [0.0] * 8


def test_same_vector_in_another_process_with_another_hash_seed() -> None:
    code = (
        "from chainviz.retrieval import HashingEmbeddings;"
        "print(HashingEmbeddings(dimensions=32).embed_query('where did harrison work?'))"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(out.stdout)
    assert len(outputs) == 1
    here = HashingEmbeddings(dimensions=32).embed_query("where did harrison work?")
    assert outputs.pop().strip() == str(here)


def test_shared_words_are_closer_than_unrelated_text() -> None:
    emb = HashingEmbeddings()
    query = emb.embed_query("where did harrison work?")
    related = emb.embed_query("harrison worked at kensho")
    unrelated = emb.embed_query("bears hibernate in winter")
    assert cosine(query, related) > cosine(query, unrelated) + 0.1


def test_character_ngrams_match_word_forms() -> None:
    with_grams = HashingEmbeddings()
    words_only = HashingEmbeddings(ngram_range=(0, 0))
    for emb, expect_close in ((with_grams, True), (words_only, False)):
        score = cosine(emb.embed_query("worked"), emb.embed_query("working"))
        assert (score > 0.1) is expect_close, score


def test_it_is_lexical_not_semantic() -> None:
    """Documented limitation: synonyms that share no letters are not found."""
    emb = HashingEmbeddings()
    assert abs(cosine(emb.embed_query("car"), emb.embed_query("automobile"))) < 0.2


def test_case_does_not_matter() -> None:
    emb = HashingEmbeddings(dimensions=128)
    assert emb.embed_query("Harrison KENSHO") == emb.embed_query("harrison kensho")


def test_async_twins_give_the_same_vectors() -> None:
    emb = HashingEmbeddings(dimensions=32)
    texts = [f"text number {i}" for i in range(70)]  # above the thread threshold
    assert asyncio.run(emb.aembed_documents(texts)) == emb.embed_documents(texts)
    assert asyncio.run(emb.aembed_query("a query")) == emb.embed_query("a query")


def test_empty_list_embeds_to_nothing() -> None:
    assert HashingEmbeddings().embed_documents([]) == []


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"dimensions": 0}, "positive int"),
        ({"dimensions": True}, "positive int"),
        ({"ngram_range": (4, 2)}, "1 <= low <= high"),
        ({"char_weight": -1.0}, "char_weight"),
    ],
)
def test_bad_settings_are_config_errors(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        HashingEmbeddings(**kwargs)  # type: ignore[arg-type]


def test_non_strings_are_refused_with_the_position() -> None:
    emb = HashingEmbeddings()
    with pytest.raises(RetrievalError, match="item 1 is a int"):
        emb.embed_documents(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(RetrievalError, match="single string"):
        emb.embed_documents("one text")  # type: ignore[arg-type]
    with pytest.raises(RetrievalError, match="query as a string"):
        emb.embed_query(["not", "a", "string"])  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=5))
def test_batch_equals_one_by_one(texts: list[str]) -> None:
    emb = HashingEmbeddings(dimensions=48)
    batch = emb.embed_documents(texts)
    for text, vector in zip(texts, batch):
        assert vector == emb.embed_query(text)
        norm = math.sqrt(sum(x * x for x in vector))
        assert norm == 0.0 or math.isclose(norm, 1.0, rel_tol=1e-5)

"""The offline default embedding: the hashing trick over words and character n-grams.

Every text becomes a sum of signed one-hot vectors, one per *feature*: each
lower-cased word, and the character n-grams (3 to 5 characters by default) of
each word padded with spaces (``" work"``, ``"orke"``, ``"ked "``…). A feature's
slot and sign come from BLAKE2b, never from Python's salted ``hash``, so a text
gets the same vector in every process, on every run and on every machine. The
sum is L2-normalised, so the inner product of two vectors is their cosine.

This is **lexical** similarity: texts are close when they share words or pieces
of words (``"worked"`` is near ``"work"``), not when they mean the same thing
(``"car"`` and ``"automobile"`` are unrelated here, and a question that shares
no word with its answer will not find it). It needs nothing but numpy, embeds a
sentence in about a tenth of a millisecond, and is good enough to show how a
retrieval chain is built and timed. For meaning, use a real embedding model:
:class:`~chainviz.retrieval.OpenAIEmbeddings` against OpenAI or any
OpenAI-compatible server.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import math
import re
from typing import Any

from chainviz.errors import ConfigError
from chainviz.retrieval._extras import numpy_module
from chainviz.retrieval.checks import check_query, check_texts

__all__ = ["HashingEmbeddings"]

_WORD_RE = re.compile(r"\w+")
_SIGN_BIT = 1 << 63
# Texts this long or lists this long are embedded on a thread under aembed_*.
_THREAD_THRESHOLD = 64


@functools.lru_cache(maxsize=1 << 16)
def _feature_hash(feature: str) -> int:
    """A stable 64-bit hash of one feature."""
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


@functools.lru_cache(maxsize=1 << 15)
def _word_features(
    word: str, dimensions: int, low: int, high: int, char_weight: float
) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """The slots and signed weights one word adds: itself (weight 1), and its n-grams.

    A word's n-grams share ``char_weight`` between them (their weights have that L2
    norm), so long words do not drown short ones.
    """
    features = [f"w:{word}"]
    if char_weight > 0 and high > 0:
        padded = f" {word} "
        features += [
            f"c:{padded[i : i + n]}"
            for n in range(low, high + 1)
            for i in range(len(padded) - n + 1)
        ]
    grams = len(features) - 1
    gram_weight = char_weight / math.sqrt(grams) if grams else 0.0
    slots: list[int] = []
    weights: list[float] = []
    for position, feature in enumerate(features):
        digest = _feature_hash(feature)
        weight = 1.0 if position == 0 else gram_weight
        slots.append(digest % dimensions)
        weights.append(-weight if digest & _SIGN_BIT else weight)
    return tuple(slots), tuple(weights)


class HashingEmbeddings:
    """Deterministic, offline, lexical embeddings (see the module docstring for what they can do).

    :param dimensions: length of every vector. More dimensions mean fewer hash
        collisions (better ranking) and more memory: 1024 float32 values are 4 KiB
        per document.
    :param ngram_range: the shortest and longest character n-grams, or ``(0, 0)``
        for whole words only.
    :param char_weight: how much a word's n-grams weigh together, against 1 for
        the word itself.
    """

    def __init__(
        self,
        dimensions: int = 1024,
        *,
        ngram_range: tuple[int, int] = (3, 5),
        char_weight: float = 1.0,
    ) -> None:
        if not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1:
            raise ConfigError(
                f"HashingEmbeddings needs dimensions to be a positive int, but {dimensions!r} "
                "was given."
            )
        low, high = ngram_range
        if (low, high) != (0, 0) and not 1 <= low <= high:
            raise ConfigError(
                f"HashingEmbeddings needs ngram_range (low, high) with 1 <= low <= high, "
                f"or (0, 0) for words only, but {ngram_range!r} was given."
            )
        if not math.isfinite(char_weight) or char_weight < 0:
            raise ConfigError(
                f"HashingEmbeddings needs char_weight >= 0, but {char_weight!r} was given."
            )
        self.dimensions = dimensions
        self.ngram_range = (low, high)
        self.char_weight = float(char_weight)

    def _matrix(self, texts: list[str]) -> Any:
        """A float32 matrix with one L2-normalised row per text."""
        np = numpy_module()
        dims = self.dimensions
        low, high = self.ngram_range
        cells: list[int] = []
        values: list[float] = []
        for row, text in enumerate(texts):
            offset = row * dims
            for word in _WORD_RE.findall(text.lower()):
                slots, weights = _word_features(word, dims, low, high, self.char_weight)
                cells.extend(offset + slot for slot in slots)
                values.extend(weights)
        flat = np.bincount(
            np.asarray(cells, dtype=np.int64),
            weights=np.asarray(values, dtype=np.float64),
            minlength=len(texts) * dims,
        )
        matrix = flat.reshape(len(texts), dims)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        norms[norms == 0.0] = 1.0  # a text with no words stays the zero vector
        return (matrix / norms).astype(np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        texts = check_texts(texts, "HashingEmbeddings.embed_documents")
        if not texts:
            return []
        return self._matrix(texts).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        text = check_query(text, "HashingEmbeddings.embed_query")
        return self._matrix([text])[0].tolist()  # type: ignore[no-any-return]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        if len(texts) >= _THREAD_THRESHOLD:  # keep the event loop responsive
            return await asyncio.to_thread(self.embed_documents, texts)
        return self.embed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return self.embed_query(text)

    def __repr__(self) -> str:
        return f"HashingEmbeddings(dimensions={self.dimensions})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HashingEmbeddings):
            return NotImplemented
        return (self.dimensions, self.ngram_range, self.char_weight) == (
            other.dimensions,
            other.ngram_range,
            other.char_weight,
        )

    def __hash__(self) -> int:
        return hash((self.dimensions, self.ngram_range, self.char_weight))

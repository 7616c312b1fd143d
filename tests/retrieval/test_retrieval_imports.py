"""Importing chainviz.retrieval is cheap; missing packages name the extra to install."""

from __future__ import annotations

import subprocess
import sys

import chainviz.retrieval


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_import_loads_neither_numpy_nor_faiss() -> None:
    out = _python(
        "import sys, chainviz.retrieval;"
        "print(sorted(m for m in ('numpy', 'faiss', 'openai') if m in sys.modules))"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_public_names() -> None:
    assert sorted(chainviz.retrieval.__all__) == [
        "Embeddings",
        "FAISS",
        "HashingEmbeddings",
        "OpenAIEmbeddings",
        "VectorStoreRetriever",
    ]
    for name in chainviz.retrieval.__all__:
        assert getattr(chainviz.retrieval, name).__name__ == name


def test_missing_numpy_names_the_extra() -> None:
    out = _python(
        "import sys; sys.modules['numpy'] = None\n"
        "from chainviz.retrieval import HashingEmbeddings\n"
        "emb = HashingEmbeddings()\n"
        "try:\n"
        "    emb.embed_query('hello')\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("MissingExtraError")
    assert "pip install 'chainviz[retrieval]'" in out.stdout


def test_missing_faiss_names_the_extra() -> None:
    out = _python(
        "import sys; sys.modules['faiss'] = None\n"
        "from chainviz.retrieval import FAISS, HashingEmbeddings\n"
        "try:\n"
        "    FAISS.from_texts(['a'], HashingEmbeddings())\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("MissingExtraError")
    assert "pip install 'chainviz[retrieval]'" in out.stdout

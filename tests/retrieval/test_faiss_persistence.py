"""save_local / load_local: data files only, cross-checked on load, never unpickled."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from chainviz.errors import RetrievalError
from chainviz.messages import Document
from chainviz.retrieval import FAISS, HashingEmbeddings

TEXTS = ["harrison worked at kensho", "bears hibernate in winter", "paris is in france"]


@pytest.fixture
def saved(tmp_path: Path) -> tuple[FAISS, Path]:
    metadatas = [{"n": i, "tags": ["x"]} for i in range(3)]
    store = FAISS.from_texts(TEXTS, HashingEmbeddings(dimensions=64), metadatas=metadatas)
    store.save_local(tmp_path / "store")
    return store, tmp_path / "store"


def test_round_trip_gives_the_same_search_results(saved: tuple[FAISS, Path]) -> None:
    store, folder = saved
    loaded = FAISS.load_local(folder, HashingEmbeddings(dimensions=64))
    query = "where did harrison work?"
    assert loaded.similarity_search_with_score(query) == store.similarity_search_with_score(query)
    assert loaded.documents == store.documents
    loaded.add_texts(["more text"])  # ids continue, no clash with loaded ones
    assert loaded.documents[-1].id == "3"


def test_files_are_an_index_and_plain_json(saved: tuple[FAISS, Path]) -> None:
    _, folder = saved
    assert sorted(p.name for p in folder.iterdir()) == ["index.faiss", "index.json"]
    header = json.loads((folder / "index.json").read_text())
    assert header["format"] == "chainviz.faiss"
    assert header["dimension"] == 64
    assert header["documents"][0] == {
        "id": "0",
        "page_content": "harrison worked at kensho",
        "metadata": {"n": 0, "tags": ["x"]},
    }


def test_loading_never_unpickles(
    saved: tuple[FAISS, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, folder = saved

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("load_local must not unpickle anything")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    loaded = FAISS.load_local(
        folder, HashingEmbeddings(dimensions=64), allow_dangerous_deserialization=True
    )
    assert len(loaded) == 3


def test_index_name_lets_several_stores_share_a_folder(tmp_path: Path) -> None:
    FAISS.from_texts(["one"], HashingEmbeddings(dimensions=8)).save_local(tmp_path, "a")
    FAISS.from_texts(["two", "three"], HashingEmbeddings(dimensions=8)).save_local(tmp_path, "b")
    assert len(FAISS.load_local(tmp_path, HashingEmbeddings(dimensions=8), "a")) == 1
    assert len(FAISS.load_local(tmp_path, HashingEmbeddings(dimensions=8), "b")) == 2


def test_metadata_that_is_not_json_is_named(tmp_path: Path) -> None:
    store = FAISS.from_documents(
        [Document("ok", {}), Document("bad", {"when": object()})], HashingEmbeddings(dimensions=8)
    )
    with pytest.raises(RetrievalError, match=r"document 1 .*id '1'"):
        store.save_local(tmp_path)
    assert not list(tmp_path.iterdir())


def test_an_empty_store_cannot_be_saved(tmp_path: Path) -> None:
    with pytest.raises(RetrievalError, match="empty"):
        FAISS(HashingEmbeddings()).save_local(tmp_path)


def test_missing_files_are_named(saved: tuple[FAISS, Path]) -> None:
    _, folder = saved
    (folder / "index.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"index.json is missing"):
        FAISS.load_local(folder, HashingEmbeddings(dimensions=64))


def test_files_that_do_not_belong_together_are_refused(tmp_path: Path) -> None:
    FAISS.from_texts(["a", "b"], HashingEmbeddings(dimensions=8)).save_local(tmp_path, "two")
    FAISS.from_texts(["a"], HashingEmbeddings(dimensions=8)).save_local(tmp_path, "one")
    (tmp_path / "one.faiss").replace(tmp_path / "two.faiss")
    with pytest.raises(RetrievalError, match="do not belong together"):
        FAISS.load_local(tmp_path, HashingEmbeddings(dimensions=8), "two")


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda h: h.update(format="pickle"), "not written by chainviz"),
        (lambda h: h.update(version=99), "format version 99"),
        (lambda h: h["documents"][0].update(page_content=5), "document 0 needs"),
        (lambda h: h.pop("documents"), "lacks its 'documents'"),
    ],
)
def test_tampered_json_is_refused(saved: tuple[FAISS, Path], edit: object, fragment: str) -> None:
    _, folder = saved
    path = folder / "index.json"
    header = json.loads(path.read_text())
    edit(header)  # type: ignore[operator]
    path.write_text(json.dumps(header))
    with pytest.raises(RetrievalError, match=fragment):
        FAISS.load_local(folder, HashingEmbeddings(dimensions=64))


def test_garbage_files_are_refused(saved: tuple[FAISS, Path]) -> None:
    _, folder = saved
    (folder / "index.faiss").write_bytes(b"not an index")
    with pytest.raises(RetrievalError, match="not a FAISS index"):
        FAISS.load_local(folder, HashingEmbeddings(dimensions=64))
    (folder / "index.json").write_text("{nope")
    with pytest.raises(RetrievalError, match="not valid JSON"):
        FAISS.load_local(folder, HashingEmbeddings(dimensions=64))

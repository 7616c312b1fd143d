"""Saving and loading a FAISS store as data only: an index file and a JSON file, no pickle.

``<name>.faiss`` is the index as ``faiss.write_index`` writes it (vectors, no
code); ``<name>.json`` holds the documents and a small header::

    {"format": "chainviz.faiss", "version": 1, "dimension": 1024,
     "metric": "cosine", "documents": [{"id": "0", "page_content": "…", "metadata": {}}]}

Loading checks that the two files agree (count, dimension, metric) before the
store is used, and says which file is wrong when they do not. Metadata must be
JSON-serialisable; saving names the document whose metadata is not.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from chainviz.errors import RetrievalError
from chainviz.messages import Document
from chainviz.retrieval._extras import faiss_module

__all__ = ["load", "save"]

FORMAT = "chainviz.faiss"
VERSION = 1


def _paths(folder: Path, name: str) -> tuple[Path, Path]:
    return folder / f"{name}.faiss", folder / f"{name}.json"


def save(folder: Path, name: str, index: Any, documents: list[Document]) -> None:
    """Write the two files (each to a temporary name first, then renamed into place)."""
    if index is None:
        raise RetrievalError("This FAISS store is empty; add texts before saving it.")
    records = []
    for position, doc in enumerate(documents):
        record = {"id": doc.id, "page_content": doc.page_content, "metadata": doc.metadata}
        try:
            json.dumps(record["metadata"], allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise RetrievalError(
                f"FAISS.save_local writes metadata as JSON, but the metadata of document "
                f"{position} (id {doc.id!r}) cannot be: {exc}. Use strings, numbers, "
                "booleans, lists and dicts."
            ) from exc
        records.append(record)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "dimension": int(index.d),
        "metric": "cosine",
        "documents": records,
    }
    folder.mkdir(parents=True, exist_ok=True)
    index_path, json_path = _paths(folder, name)
    faiss = faiss_module()
    _replace(index_path, lambda tmp: faiss.write_index(index, str(tmp)))
    _replace(json_path, lambda tmp: tmp.write_text(json.dumps(header), encoding="utf-8"))


def _replace(path: Path, write: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load(folder: Path, name: str) -> tuple[Any, list[Document]]:
    """Read and cross-check the two files; return the index and the documents."""
    index_path, json_path = _paths(folder, name)
    for path in (index_path, json_path):
        if not path.is_file():
            raise FileNotFoundError(
                f"No saved FAISS store at {folder}: {path.name} is missing "
                f"(FAISS.save_local writes {index_path.name} and {json_path.name})."
            )
    try:
        header = json.loads(json_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise RetrievalError(f"{json_path} is not valid JSON: {exc}.") from exc
    documents = _documents(header, json_path)
    faiss = faiss_module()
    try:
        index = faiss.read_index(str(index_path))
    except RuntimeError as exc:
        raise RetrievalError(f"{index_path} is not a FAISS index file: {exc}.") from exc
    if index.metric_type != faiss.METRIC_INNER_PRODUCT:
        raise RetrievalError(
            f"{index_path} is not a cosine (inner product) index, which FAISS.save_local writes."
        )
    if index.d != header["dimension"] or index.ntotal != len(documents):
        raise RetrievalError(
            f"{index_path} and {json_path} do not belong together: the index has "
            f"{index.ntotal} vectors of dimension {index.d}, the JSON file "
            f"{len(documents)} documents of dimension {header['dimension']}."
        )
    return index, documents


def _documents(header: Any, path: Path) -> list[Document]:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RetrievalError(f"{path} was not written by chainviz's FAISS.save_local.")
    if header.get("version") != VERSION:
        raise RetrievalError(
            f"{path} has format version {header.get('version')!r}; this chainviz reads "
            f"version {VERSION}."
        )
    records = header.get("documents")
    dimension = header.get("dimension")
    if not isinstance(records, list) or not isinstance(dimension, int):
        raise RetrievalError(f"{path} lacks its 'documents' list or its 'dimension'.")
    documents = []
    for position, record in enumerate(records):
        ok = (
            isinstance(record, dict)
            and isinstance(record.get("page_content"), str)
            and isinstance(record.get("metadata"), dict)
            and isinstance(record.get("id"), (str, type(None)))
        )
        if not ok:
            raise RetrievalError(
                f"{path}: document {position} needs a string 'page_content', a dict "
                "'metadata' and a string (or null) 'id'."
            )
        documents.append(Document(record["page_content"], record["metadata"], id=record["id"]))
    return documents

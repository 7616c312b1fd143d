"""Importing the optional packages retrieval needs, with the install line when they are missing.

numpy and faiss are imported on first use, never when ``chainviz.retrieval`` is
imported, so that the package (and its error messages) load without them.
"""

from __future__ import annotations

from typing import Any

from chainviz.errors import require_extra

__all__ = ["faiss_module", "numpy_module"]


def numpy_module() -> Any:
    """The ``numpy`` module, or :class:`~chainviz.errors.MissingExtraError`."""
    return require_extra("numpy", "retrieval", purpose="chainviz.retrieval")


def faiss_module() -> Any:
    """The ``faiss`` module (from ``faiss-cpu``), or :class:`~chainviz.errors.MissingExtraError`."""
    return require_extra("faiss", "retrieval", purpose="The FAISS vector store")

"""Getting a chain to another process and its results back.

A chain travels as cloudpickle bytes (lambdas and closures included). When it
cannot be pickled, the error names the step that could not, and why. On the
receiving side a chain is unpickled once per process and reused for every chunk.
Exceptions that cannot be pickled come back as :class:`~chainviz.errors.RemoteError`.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from typing import Any

from chainviz.core.base import Runnable
from chainviz.errors import PicklingError, RemoteError, require_extra

__all__ = ["dumps_chain", "loads_chain", "portable_error"]

_loaded: dict[str, Runnable[Any, Any]] = {}
_loaded_lock = threading.Lock()


def _cloudpickle() -> Any:
    return require_extra("cloudpickle", "dask", purpose="Running a batch in other processes")


def dumps_chain(chain: Runnable[Any, Any]) -> bytes:
    """Pickle ``chain`` with cloudpickle, or raise :class:`PicklingError` naming the step."""
    cloudpickle = _cloudpickle()
    try:
        return bytes(cloudpickle.dumps(chain))
    except Exception as exc:
        node_id, cause = _find_unpicklable(chain, "", cloudpickle)
        where = f"step '{node_id}'" if node_id else "the chain"
        raise PicklingError(
            f"The chain cannot be sent to another process: {where} cannot be pickled "
            f"({type(cause or exc).__name__}: {cause or exc}). Keep clients, locks and open "
            "files out of steps (create them lazily inside the step), or run the batch with "
            "a thread pool (executor=None).",
            node_id=node_id,
        ) from exc


def _find_unpicklable(
    runnable: Runnable[Any, Any], node_id: str, cloudpickle: Any
) -> tuple[str, BaseException | None]:
    """The deepest node whose pickling fails, by walking the chain's structure."""
    for key, child in runnable.children():
        child_id = node_id if key is None else (f"{node_id}/{key}" if node_id else key)
        try:
            cloudpickle.dumps(child)
        except Exception:
            return _find_unpicklable(child, child_id, cloudpickle)
    try:
        cloudpickle.dumps(runnable)
    except Exception as exc:
        return node_id, exc
    return node_id, None


def loads_chain(payload: bytes) -> Runnable[Any, Any]:
    """Unpickle a chain shipped by :func:`dumps_chain`, once per process."""
    digest = hashlib.sha256(payload).hexdigest()
    with _loaded_lock:
        chain = _loaded.get(digest)
        if chain is None:
            chain = pickle.loads(payload)  # the caller's own chain, shipped by the caller
            _loaded[digest] = chain
        return chain


def portable_error(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a :class:`RemoteError` that says what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RemoteError(f"{type(exc).__name__}: {exc}")

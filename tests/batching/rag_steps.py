"""A retrieval chain's pieces for Dask tests, and how often each process unpickled them.

Module-level, so cloudpickle ships them by reference and every worker process counts
in its own copy of :data:`UNPICKLED` (read back with ``client.run(unpickled)``).
"""

from __future__ import annotations

import pickle
from typing import Any

from chainviz.retrieval.hashing import HashingEmbeddings

UNPICKLED = 0


class CountingEmbeddings(HashingEmbeddings):
    """HashingEmbeddings that count how often this process unpickled one."""

    def __setstate__(self, state: dict[str, Any]) -> None:
        global UNPICKLED
        UNPICKLED += 1
        self.__dict__.update(state)


def unpickled() -> int:
    return UNPICKLED


def join_documents(documents: list[Any]) -> str:
    return " / ".join(d.page_content for d in documents)


def chunk_tasks(dask_scheduler: Any) -> dict[str, Any]:
    """What the scheduler holds for a batch: each chunk task's dependencies and pickled
    size, and each scattered object's size and how many workers hold it."""
    chunks = []
    scattered = {}
    for key, task in dask_scheduler.tasks.items():
        name = str(key)
        if name.startswith("run_chunk"):
            chunks.append({
                "deps": sorted(str(d.key) for d in task.dependencies),
                "bytes": len(pickle.dumps(task.run_spec)) if task.run_spec is not None else 0,
            })
        elif name.startswith("bytes-"):
            scattered[name] = {"nbytes": task.nbytes, "holders": len(task.who_has or ())}
    return {"chunks": chunks, "scattered": scattered}

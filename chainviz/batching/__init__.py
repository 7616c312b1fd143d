"""Batches on any executor: threads here, other processes, or a Dask cluster.

``chain.batch(inputs, executor=...)`` ships the work in chunks. Each item comes
back as an :class:`ItemRecord` with its output or error and the per-step
durations measured where it ran; outputs keep input order and no item is lost or
duplicated: when a worker dies, its items are retried (Dask) or reported as
failed with :class:`~chainviz.errors.WorkerLost`. Standard library at import; the
executors' own packages are imported only when used.
"""

from chainviz.batching.records import ItemRecord
from chainviz.batching.run import auto_chunk_size, run_batch

__all__ = ["ItemRecord", "auto_chunk_size", "run_batch"]

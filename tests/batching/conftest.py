"""The Dask cluster the batching tests share (a LocalCluster on 127.0.0.1, two workers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    # Imported here: the executor tests in this folder need no Dask.
    from tests.batching.dask_support import distributed

    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=2,
        host="127.0.0.1",
        dashboard_address=None,
        processes=True,
    )
    with distributed.Client(cluster) as dask_client:
        yield dask_client
    cluster.close()

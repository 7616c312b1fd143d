from __future__ import annotations

import pytest

pytest.importorskip("numpy")
pytest.importorskip("faiss")


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """Run the same case through the sync and the async method."""
    return str(request.param)

"""``distributed``, or a skip that says how to install it. CHAINVIZ_REQUIRE_DASK=1 (set by
CI) turns the skip into a failure."""

from __future__ import annotations

import os
from typing import Any

import pytest

try:
    import distributed as _distributed
except ImportError:  # pragma: no cover - exercised where the extra is missing
    if os.environ.get("CHAINVIZ_REQUIRE_DASK") == "1":
        raise
    pytest.skip(
        "Dask is not installed: pip install 'chainviz[dask]' (CHAINVIZ_REQUIRE_DASK=1 makes "
        "this a failure)",
        allow_module_level=True,
    )

distributed: Any = _distributed

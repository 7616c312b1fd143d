"""Helpers shared by the retrieval tests."""

from __future__ import annotations

import asyncio
from typing import Any

from chainviz import coerce_to_runnable


def run(mode: str, runnable: Any, value: Any, **kwargs: Any) -> Any:
    """``invoke`` or ``ainvoke`` (``mode`` is ``"sync"`` or ``"async"``); dicts become parallels."""
    runnable = coerce_to_runnable(runnable)
    if mode == "sync":
        return runnable.invoke(value, **kwargs)
    return asyncio.run(runnable.ainvoke(value, **kwargs))

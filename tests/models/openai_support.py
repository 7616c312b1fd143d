"""Shared by the ChatOpenAI tests: a clean environment, a sentinel key, sync/async runs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chainviz import coerce_to_runnable

pytest.importorskip("openai")

#: A key to search for. Not shaped like ``sk-…`` on purpose: the trace layer blanks
#: such strings as a second line of defence, and these tests prove the first one.
SENTINEL = "sentinel-key-5b0e2f9c7d1a4e63"

_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID")


#: Run a test through the sync path and through the async path.
MODES = pytest.mark.parametrize("mode", ["sync", "async"])


def clear_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OpenAI settings from the machine running the tests (never a real key)."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)


def run(mode: str, runnable: Any, value: Any, **kwargs: Any) -> Any:
    """``invoke`` or ``ainvoke`` by ``mode``; a dict becomes a parallel step."""
    runnable = coerce_to_runnable(runnable)
    if mode == "sync":
        return runnable.invoke(value, **kwargs)
    return asyncio.run(runnable.ainvoke(value, **kwargs))


def stream(mode: str, runnable: Any, value: Any, **kwargs: Any) -> list[Any]:
    """Every chunk of ``stream`` or ``astream`` by ``mode``."""
    if mode == "sync":
        return list(runnable.stream(value, **kwargs))

    async def collect() -> list[Any]:
        return [chunk async for chunk in runnable.astream(value, **kwargs)]

    return asyncio.run(collect())

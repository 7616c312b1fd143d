"""Fixtures for the language layer: run the same case through the sync and async paths."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``run(runnable, input, **kwargs)`` through ``invoke`` or ``ainvoke``."""

    def call(runnable: Any, input: Any, **kwargs: Any) -> Any:
        if request.param == "sync":
            return runnable.invoke(input, **kwargs)
        return asyncio.run(runnable.ainvoke(input, **kwargs))

    return call


@pytest.fixture(params=["sync", "async"])
def stream(request: pytest.FixtureRequest) -> Callable[..., list[Any]]:
    """``stream(runnable, input, **kwargs)``: the chunks of ``stream`` or ``astream``."""

    def call(runnable: Any, input: Any = None, **kwargs: Any) -> list[Any]:
        if request.param == "sync":
            return list(runnable.stream(input, **kwargs))

        async def collect() -> list[Any]:
            return [chunk async for chunk in runnable.astream(input, **kwargs)]

        return asyncio.run(collect())

    return call

"""Fixtures shared by the whole test suite.

``tests/`` has no ``__init__.py``, so pytest puts this folder on ``sys.path``
and test helpers import as ``fakes.<module>``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAIServer
from hypothesis import HealthCheck, settings

# The suite runs on shared 2-core machines: a generated case may be slow for reasons
# that have nothing to do with it. Property tests check behaviour, not speed.
settings.register_profile(
    "chainviz", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("chainviz")


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    """A fresh OpenAI-compatible server on 127.0.0.1; ``.base_url`` ends in ``/v1``.

    Script failures with ``rate_limit()``, ``server_error()``, ``unauthorized()``
    and ``slow()``; inspect ``.requests`` afterwards.
    """
    with FakeOpenAIServer() as server:
        yield server
    assert not server.errors, f"the fake OpenAI server itself failed: {server.errors!r}"


@pytest.fixture
def openai_env(
    openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> FakeOpenAIServer:
    """``openai_server``, with ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` pointing at it."""
    for name, value in openai_server.env().items():
        monkeypatch.setenv(name, value)
    return openai_server


# The same case through the sync and the async path (language and model tests).
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

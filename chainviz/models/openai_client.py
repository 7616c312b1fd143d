"""What ChatOpenAI and OpenAIEmbeddings share: key and URL resolution, lazy clients, pickling.

Configuration lives on the runnable; the ``openai`` client objects are built
on first use, once per configuration (and, for ``AsyncOpenAI``, once per event
loop: its connections belong to the loop that opened them). They are never
built at import or construction and never pickled.

The key and the URL are resolved at call time: the explicit ``api_key`` /
``base_url``, else ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``. A ``base_url`` alone
is enough (local servers such as llama.cpp's, Ollama or vLLM rarely want a key;
a placeholder is sent). With neither a key nor a URL the first call raises
:class:`~chainviz.errors.ModelConfigurationError` saying how to fix it.

The key is held in a :class:`Secret`, shown nowhere: not in ``repr``, not in
events (errors are redacted before they are raised, see
:mod:`chainviz.models.openai_errors`), and not in a pickle. An explicit
``api_key`` is dropped when the runnable is pickled, so a copy shipped to another
process uses that process's ``OPENAI_API_KEY``. ``copy.copy`` (used by
``with_replaced`` and ``configurable_fields``) keeps it.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import math
import os
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from chainviz.errors import ConfigError, ModelConfigurationError, PicklingError, require_extra

if TYPE_CHECKING:
    import openai

__all__ = [
    "NO_KEY_PLACEHOLDER",
    "OpenAIClientConfig",
    "Resolved",
    "Secret",
    "display_url",
    "openai_module",
]

#: Sent as the key when only a base_url is configured (the client insists on one).
NO_KEY_PLACEHOLDER = "not-needed"
DEFAULT_URL = "https://api.openai.com/v1"


def openai_module() -> Any:
    """The ``openai`` package, or :class:`~chainviz.errors.MissingExtraError`."""
    return require_extra("openai", "openai", purpose="ChatOpenAI and OpenAIEmbeddings")


class Secret:
    """A string that is never shown: ``repr`` and ``str`` mask it, pickling refuses it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __reduce__(self) -> Any:
        raise PicklingError(
            "An API key cannot be pickled. chainviz drops keys when it pickles a model; "
            "set OPENAI_API_KEY in the process that runs it."
        )


def display_url(url: str | None) -> str:
    """A URL fit to show: no user, password, query or fragment (they may hold keys)."""
    if not url:
        return DEFAULT_URL
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


@dataclass(frozen=True)
class Resolved:
    """The settings of one call, after the environment was consulted."""

    api_key: str  # the real key, or NO_KEY_PLACEHOLDER
    secret: str | None  # the real key, to redact from errors; None with the placeholder
    base_url: str | None
    timeout: float | None

    @property
    def url(self) -> str:
        return display_url(self.base_url)

    def cache_key(self) -> tuple[str, str | None, float | None]:
        # The cache is keyed by a digest, so not even the cache holds the key as a string.
        digest = hashlib.blake2b(self.api_key.encode("utf-8"), digest_size=16).hexdigest()
        return digest, self.base_url, self.timeout


async def _close_with_loop(client: Any, forget: Callable[[], None]) -> AsyncIterator[None]:
    """Close ``client`` when its event loop shuts down, then ``forget`` it.

    A started async generator is finalised by ``loop.shutdown_asyncgens()``, which
    ``asyncio.run`` calls before closing the loop; its ``finally`` then runs on that
    loop, where the client's connections can still be closed cleanly. (Notebook
    kernels and chainviz's private loop never shut down; their clients live on.)
    Forgetting the entry matters: the generator refers to its loop, so a cached
    entry would keep every finished loop alive.
    """
    try:
        yield
    finally:
        forget()
        await client.close()


class _ClientCache:
    """Clients by configuration; shared by copies of a runnable (keys include the config)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sync: dict[tuple[Any, ...], Any] = {}
        self.by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Any, Any]] = (
            weakref.WeakKeyDictionary()
        )

    def forget(self, loop: asyncio.AbstractEventLoop, key: tuple[Any, ...]) -> None:
        with self.lock:
            clients = self.by_loop.get(loop)
            if clients is not None:
                clients.pop(key, None)
                if not clients:
                    del self.by_loop[loop]

    def __repr__(self) -> str:
        return "<openai clients>"


class OpenAIClientConfig:
    """Mixin: the connection settings of an OpenAI-compatible runnable and its lazy clients."""

    #: What the missing-key message suggests for running offline.
    _offline_alternative: ClassVar[str] = "chainviz.models.SimulatedChatModel()"

    base_url: str | None
    timeout: float | None
    max_retries: int
    _api_key: Secret | None
    _clients: _ClientCache
    _key_dropped: bool

    def _init_client_config(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: float | None,
        max_retries: int,
    ) -> None:
        what = type(self).__name__
        if timeout is not None and (
            not isinstance(timeout, (int, float))
            or isinstance(timeout, bool)
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            raise ConfigError(
                f"{what} needs timeout to be a positive number of seconds or None, "
                f"but {timeout!r} was given."
            )
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise ConfigError(
                f"{what} needs max_retries to be an int >= 0 (0: no retry), "
                f"but {max_retries!r} was given."
            )
        if base_url is not None and not isinstance(base_url, str):
            raise ConfigError(f"{what} needs base_url to be a string URL, not {base_url!r}.")
        self.api_key = api_key
        self.base_url = base_url
        self.timeout = None if timeout is None else float(timeout)
        self.max_retries = max_retries
        self._clients = _ClientCache()
        self._key_dropped = False

    # -- the key: stored as a Secret whatever is assigned ------------------------------

    @property
    def api_key(self) -> Secret | None:
        """The explicit key (masked), or None to read ``OPENAI_API_KEY`` at call time."""
        return self._api_key

    @api_key.setter
    def api_key(self, value: str | Secret | None) -> None:
        if value is not None and not isinstance(value, (str, Secret)):
            raise ConfigError(
                f"{type(self).__name__} needs api_key to be a string, but a "
                f"{type(value).__name__} was given."
            )
        self._api_key = Secret(value) if isinstance(value, str) and value else (value or None)

    # -- resolution and clients ----------------------------------------------------------

    def _resolve(self, where: str) -> Resolved:
        """The key and URL to use now, or :class:`ModelConfigurationError` if there are none."""
        key = self._api_key.get_secret_value() if self._api_key else None
        key = key or os.environ.get("OPENAI_API_KEY") or None
        base_url = self.base_url or os.environ.get("OPENAI_BASE_URL") or None
        if key is None and base_url is None:
            raise ModelConfigurationError(self._no_key_message(where))
        return Resolved(key or NO_KEY_PLACEHOLDER, key, base_url, self.timeout)

    def _no_key_message(self, where: str) -> str:
        dropped = (
            " This copy was unpickled: an api_key given in code is never pickled, so set "
            "OPENAI_API_KEY in the process that runs it."
            if self._key_dropped
            else ""
        )
        return (
            f"{where} has no API key and no base_url, so it cannot reach a model. "
            "To use OpenAI, set the OPENAI_API_KEY environment variable (or pass api_key=...). "
            "To use a local OpenAI-compatible server (llama.cpp server, Ollama, vLLM), pass "
            "base_url=... (e.g. 'http://localhost:11434/v1') or set OPENAI_BASE_URL. "
            f"To run offline with no key, use {self._offline_alternative} instead."
            f"{dropped}"
        )

    def _client_kwargs(self, resolved: Resolved) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"api_key": resolved.api_key, "max_retries": 0}
        if resolved.base_url is not None:
            kwargs["base_url"] = resolved.base_url
        if resolved.timeout is not None:
            kwargs["timeout"] = resolved.timeout
        return kwargs

    def _sync_client(self, resolved: Resolved) -> openai.OpenAI:
        """The ``openai.OpenAI`` client for these settings (retries are ours: max_retries=0)."""
        cache = self._clients
        key = resolved.cache_key()
        with cache.lock:
            client = cache.sync.get(key)
            if client is None:
                client = openai_module().OpenAI(**self._client_kwargs(resolved))
                cache.sync[key] = client
        return client  # type: ignore[no-any-return]

    async def _async_client(self, resolved: Resolved) -> openai.AsyncOpenAI:
        """The ``openai.AsyncOpenAI`` client for these settings and the running loop."""
        cache = self._clients
        loop = asyncio.get_running_loop()
        key = resolved.cache_key()
        with cache.lock:
            clients = cache.by_loop.setdefault(loop, {})
            entry = clients.get(key)
            if entry is None:
                client = openai_module().AsyncOpenAI(**self._client_kwargs(resolved))
                closer = _close_with_loop(client, partial(cache.forget, loop, key))
                clients[key] = entry = (client, closer)
            else:
                closer = None
        if closer is not None:
            await closer.__anext__()  # first iteration: the loop now tracks it
        return entry[0]  # type: ignore[no-any-return]

    # -- copying and pickling -------------------------------------------------------------

    def __copy__(self) -> Any:
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)  # shares the Secret and the client cache
        return clone

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        for name, value in self.__dict__.items():
            shared = name in ("_api_key", "_clients")
            clone.__dict__[name] = value if shared else copy.deepcopy(value, memo)
        return clone

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_clients", None)
        if state.get("_api_key") is not None:
            state["_api_key"] = None
            state["_key_dropped"] = True
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._clients = _ClientCache()

"""Making any step input or output storable as JSON.

JSON values (None, booleans, numbers, strings, lists, dicts with string keys) are
kept as they are; tuples and sets become lists. A message-like object (one with a
``content`` attribute, such as ``AIMessage``) is stored as its content. Anything
else is stored as text: its ``repr``. Runnables (models included) are stored by
type name only, so nothing they hold (an API key) can reach a file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Set
from typing import Any

from chainviz.core.base import Runnable

__all__ = ["to_jsonable"]

_MAX_DEPTH = 64


def to_jsonable(value: Any) -> Any:
    """A JSON-ready form of ``value`` (see the module docstring)."""
    return _convert(value, 0, set())


def _text(value: Any) -> str:
    if isinstance(value, Runnable):
        return f"<{type(value).__name__}>"
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__} that could not be shown>"


def _convert(value: Any, depth: int, active: set[int]) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if depth >= _MAX_DEPTH:
        return _text(value)
    if isinstance(value, (Mapping, list, tuple, Set)):
        if id(value) in active:
            return "<cycle>"
        active.add(id(value))
        try:
            if isinstance(value, Mapping):
                return {
                    (k if isinstance(k, str) else _text(k)): _convert(v, depth + 1, active)
                    for k, v in value.items()
                }
            return [_convert(v, depth + 1, active) for v in value]
        finally:
            active.discard(id(value))
    if not isinstance(value, (Runnable, BaseException, bytes, bytearray, type)):
        content = getattr(value, "content", None)
        if content is not None:
            return _convert(content, depth + 1, active)
    return _text(value)

"""Node ids: a step's path from the root, as in JSON Pointer.

Sequence steps are named by index, parallel branches by key; parts are joined
with ``/`` and a key's own ``~`` and ``/`` are escaped as ``~0`` and ``~1``. The
root (the whole chain) is ``""``. Wrappers (retry, fallbacks, alternatives,
bound config) add no part, so swapping a prompt keeps its id.
"""

from __future__ import annotations

__all__ = ["ROOT", "escape_key", "join", "split", "unescape_key"]

ROOT = ""


def escape_key(key: str) -> str:
    """Escape one path part: ``~`` → ``~0`` first, then ``/`` → ``~1``."""
    if "~" not in key and "/" not in key:
        return key
    return key.replace("~", "~0").replace("/", "~1")


def unescape_key(part: str) -> str:
    """Undo :func:`escape_key`."""
    if "~" not in part:
        return part
    return part.replace("~1", "/").replace("~0", "~")


def join(parent: str, escaped_part: str) -> str:
    """The id of a child whose (already escaped) part is ``escaped_part``."""
    return f"{parent}/{escaped_part}" if parent else escaped_part


def split(node_id: str) -> list[str]:
    """The unescaped parts of a node id; the root has none."""
    return [unescape_key(p) for p in node_id.split("/")] if node_id else []

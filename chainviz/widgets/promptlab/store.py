"""Keeping the prompt lab's data in a JSON file, so a re-run cell or a restarted kernel
finds every version again: ``ChainView(chain, prompts="prompts.json")``.

The file is read when the view is made (a missing file is an empty lab) and written
after every change, atomically (a temporary file renamed over it), so a crash
mid-write never leaves half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from chainviz.errors import ConfigError

__all__ = ["read_prompts", "write_prompts"]


def read_prompts(path: Path) -> dict[str, Any] | None:
    """The data saved in ``path``, or None when there is no such file yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"The prompts file {str(path)!r} is not valid JSON ({exc}). Fix or move it; "
            "the prompt lab writes it as view.prompts gives it."
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"The prompts file {str(path)!r} holds a {type(data).__name__}, not the dict "
            "view.prompts gives."
        )
    return data


def write_prompts(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, ensure_ascii=False)
            out.write("\n")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise

"""What a batch item comes back as, wherever it ran."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ItemRecord"]


@dataclass(frozen=True)
class ItemRecord:
    """One item's outcome: output or error, per-step durations (seconds, by node id,
    measured on the worker: clocks differ between hosts), and where it ran."""

    index: int
    output: Any = None
    error: BaseException | None = None
    durations: Mapping[str, float] = field(default_factory=dict)
    worker: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

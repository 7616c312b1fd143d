"""Fakes for widget tests: a clock that moves when told, and a record of comm messages."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


class FakeClock:
    """Seconds that move only when the test says so (thread-safe)."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


@dataclass(frozen=True)
class Sent:
    comm_id: str
    msg_type: str
    data: dict[str, Any]
    at: float
    thread: str


class Recorder:
    """Every comm message sent while the fixture is active."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.messages: list[Sent] = []

    def add(self, sent: Sent) -> None:
        with self.lock:
            self.messages.append(sent)

    def updates(self, comm_id: str | None = None) -> list[Sent]:
        """The ``update`` messages (state changes), of one widget if ``comm_id`` is given."""
        with self.lock:
            return [
                m for m in self.messages
                if m.msg_type == "comm_msg" and m.data.get("method") == "update"
                and (comm_id is None or m.comm_id == comm_id)
            ]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

"""Fixtures for widget tests without a kernel: a recording comm and a fake clock.

ipywidgets sends every state update through the comm that ``comm.create_comm``
returns. ``recorded`` replaces it with a comm that keeps each message (with the fake
clock's time when it was sent), whatever thread sent it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import comm
import pytest
from comm.base_comm import BaseComm
from widget_fakes import FakeClock, Recorder, Sent


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[Recorder]:
    recorder = Recorder(clock)

    class RecordingComm(BaseComm):  # type: ignore[misc]
        def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                        buffers: Any = None, **keys: Any) -> None:
            recorder.add(Sent(self.comm_id, msg_type, dict(data or {}), clock(),
                              threading.current_thread().name))

    monkeypatch.setattr(comm, "create_comm", lambda *a, **k: RecordingComm(*a, **k))
    yield recorder

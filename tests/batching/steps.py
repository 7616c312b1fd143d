"""Steps importable by reference (cloudpickle ships module-level functions by name)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import Any

from chainviz.core.base import Runnable
from chainviz.core.run import Step


def double(x: int) -> int:
    return x * 2


def die_on_three(x: int) -> int:
    if x == 3:
        os._exit(17)  # the worker process dies mid-chunk
    return x


def fail_on_odd(x: int) -> int:
    if x % 2:
        raise ValueError(f"odd input {x}")
    return x


def sample(_: Any) -> str:
    return uuid.uuid4().hex


def snooze(seconds: float) -> float:
    time.sleep(seconds)  # not interruptible: a stop cannot end it
    return seconds


def slow_identity(x: Any) -> Any:
    time.sleep(0.01)
    return x


class HoldsALock:
    """A step that cannot be pickled."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __call__(self, x: Any) -> Any:
        with self.lock:
            return x


class Nap(Runnable[Any, Any]):
    """Sleeps its input's seconds on the run's cancel token (so a stop ends it at once)."""

    kind = "function"

    def _call(self, input: Any, step: Step) -> Any:
        step.sleep(float(input))
        return input

"""Running a chain for a view: in the foreground, in the background, or awaited.

A :class:`Runner` runs one chain at a time with a fresh
:class:`~chainviz.core.cancel.CancelToken`; :meth:`Runner.stop` cancels it, so the
running branches end at their next boundary and the finished ones keep their
outputs. Around every run it calls two hooks, whatever the way it was started:

* ``begin()`` → the run's config (the view resets its state, starts its refresh
  timer, and passes its event sink here);
* ``end(outcome)`` with a :class:`Outcome` (the view stops the timer, keeps the
  trace, publishes the final state).

* :meth:`Runner.run` blocks the caller. Jupyter's Interrupt (``KeyboardInterrupt``)
  cancels the run, ``end`` is called, and the interrupt is raised again.
* :meth:`Runner.arun` awaits ``ainvoke`` on the caller's loop; cancelling the task
  cancels the run.
* :meth:`Runner.start` runs on a daemon thread and returns a
  :class:`concurrent.futures.Future` at once, so the kernel stays free to hear Stop.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from chainviz.core import events as ev
from chainviz.core.cancel import CancelToken
from chainviz.core.config import RunnableConfig
from chainviz.errors import RunBusy, RunCancelled

__all__ = ["Outcome", "RunBusy", "Runner"]

OutcomeStatus = Literal["done", "error", "cancelled"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a run ended: ``status``, the output (if done), the exception (if not),
    the reason it was cancelled, and when it ended (on the events' clock)."""

    status: OutcomeStatus
    output: Any = None
    error: BaseException | None = None
    reason: str = ""
    end_ns: int = 0


class Runner:
    """Runs a chain with ``begin``/``end`` hooks around it; one run at a time."""

    def __init__(
        self,
        begin: Callable[[], RunnableConfig],
        end: Callable[[Outcome], None],
    ) -> None:
        self._begin = begin
        self._end = end
        self._lock = threading.Lock()
        self._token: CancelToken | None = None
        self._done = threading.Event()
        self._done.set()
        self.future: concurrent.futures.Future[Any] | None = None

    @property
    def busy(self) -> bool:
        """True while a run is going on."""
        return not self._done.is_set()

    def _claim(self) -> CancelToken:
        with self._lock:
            if self.busy:
                raise RunBusy(
                    "This view is already running its chain. Press Stop (or call "
                    "view.stop()) and wait for it to end (view.wait()) before starting another run."
                )
            self._done.clear()
            self._token = CancelToken()
            return self._token

    def stop(self, reason: str = "stopped") -> bool:
        """Cancel the current run, if any; True if there was one to cancel."""
        token = self._token
        if token is None or not self.busy:
            return False
        token.cancel(reason)
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no run is going on; True if none is (False on timeout)."""
        return self._done.wait(timeout)

    # ------------------------------------------------------------------ running

    def _settle(self, token: CancelToken, outcome: Outcome) -> None:
        try:
            self._end(outcome)
        finally:
            self._token = None if self._token is token else self._token
            self._done.set()

    def _outcome_of(self, token: CancelToken, exc: BaseException) -> Outcome:
        if isinstance(exc, KeyboardInterrupt):
            token.cancel("interrupted")
            return Outcome("cancelled", error=exc, reason="interrupted", end_ns=ev.clock())
        if isinstance(exc, RunCancelled) or token.cancelled:
            return Outcome("cancelled", error=exc, reason=token.reason or str(exc),
                           end_ns=ev.clock())
        return Outcome("error", error=exc, end_ns=ev.clock())

    def _config(self, token: CancelToken) -> RunnableConfig:
        try:
            return self._begin()
        except BaseException:
            self._token = None
            self._done.set()
            raise

    def run(self, chain: Any, input: Any) -> Any:
        """Run on this thread and return the output (exceptions are raised again)."""
        token = self._claim()
        config = self._config(token)
        try:
            output = chain.invoke(input, config, cancel_token=token)
        except BaseException as exc:
            self._settle(token, self._outcome_of(token, exc))
            raise
        self._settle(token, Outcome("done", output=output, end_ns=ev.clock()))
        return output

    async def arun(self, chain: Any, input: Any) -> Any:
        """Await the run on the running loop and return the output."""
        token = self._claim()
        config = self._config(token)
        try:
            output = await chain.ainvoke(input, config, cancel_token=token)
        except BaseException as exc:
            if not isinstance(exc, Exception):  # the task was cancelled, or an interrupt
                token.cancel("cancelled")
            self._settle(token, self._outcome_of(token, exc))
            raise
        self._settle(token, Outcome("done", output=output, end_ns=ev.clock()))
        return output

    def start(self, chain: Any, input: Any) -> concurrent.futures.Future[Any]:
        """Run on a daemon thread; the future gets the output or the exception."""
        token = self._claim()
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        future.set_running_or_notify_cancel()
        self.future = future

        def work() -> None:
            try:
                config = self._config(token)
            except BaseException as exc:
                future.set_exception(exc)
                return
            try:
                output = chain.invoke(input, config, cancel_token=token)
            except BaseException as exc:
                try:
                    self._settle(token, self._outcome_of(token, exc))
                finally:
                    future.set_exception(exc)
                return
            try:
                self._settle(token, Outcome("done", output=output, end_ns=ev.clock()))
            finally:
                future.set_result(output)

        threading.Thread(target=work, name="chainviz-run", daemon=True).start()
        return future

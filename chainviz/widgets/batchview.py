"""``BatchView``: run a chain over many inputs, here or on an executor, and watch it live.

The view is thin (DESIGN decision 7). A batch runs through
:meth:`~chainviz.core.base.Runnable.batch_records`; what it learns on the way is pushed
onto one queue (a :class:`~chainviz.widgets.batch_feed.BatchFeed`), each push stamped
with the view's clock and marking the :class:`~chainviz.widgets.throttle.Throttle`
dirty — nothing else:

* each item's :class:`~chainviz.batching.ItemRecord`, as the batch yields it (item by
  item for ``executor=None``; chunk by chunk from an executor);
* on Dask, each worker's announcement of a finished item and of a chunk it starts
  (``topic=``, ``client.subscribe_topic``), so counts move while chunks still run;
* here and on thread pools, the start of each item's root step (an event sink), so
  the view knows the items in flight.

At most ten times a second the refresh timer folds the queue into a pure
:class:`~chainviz.widgets.batch_state.BatchState` and sends one snapshot to the browser
(``static/batchview.js`` draws it), and once more when the batch ends.

**Stopping** (the Stop button, :meth:`BatchView.stop`, or Interrupt under
:meth:`BatchView.run`) cancels the batch's :class:`~chainviz.core.cancel.CancelToken`:

* ``executor=None`` and thread pools: items not started never start, running ones end at
  their next step boundary (a model's wait ends at once), finished ones keep outputs;
* process pools and Dask: chunks not started are cancelled; a chunk already running in
  another process cannot be interrupted — it runs to its end there and its result is
  thrown away.

Every item that did not finish is in :attr:`BatchView.results` as a
:class:`~chainviz.errors.RunCancelled`; no item is lost.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

from chainviz.batching import ItemRecord
from chainviz.batching.run import is_dask_client
from chainviz.core.base import Runnable
from chainviz.core.cancel import CancelToken
from chainviz.core.coerce import coerce_to_runnable
from chainviz.core.config import RunnableConfig
from chainviz.errors import ChainvizError, ConfigError, RunCancelled
from chainviz.widgets.batch_feed import BatchFeed
from chainviz.widgets.batch_picture import batch_svg, batch_text
from chainviz.widgets.batch_state import DEFAULT_WINDOW, BatchState, BatchStatus, BatchSummary
from chainviz.widgets.displays import PictureDisplays
from chainviz.widgets.runner import Outcome, Runner
from chainviz.widgets.throttle import DEFAULT_INTERVAL, RefreshTimer, Throttle

__all__ = ["BatchLive", "BatchView"]

STATIC = Path(__file__).parent / "static"


class BatchLive(anywidget.AnyWidget):
    """The drawn part: progress bar, counters, step percentiles, slowest items, errors."""

    _esm = STATIC / "batchview.js"
    _css = STATIC / "batchview.css"

    #: The state to draw (see :meth:`BatchState.snapshot`), plus ``run``: the run's number.
    snapshot = traitlets.Dict().tag(sync=True)


class _BatchJob:
    """The batch, in the shape :class:`Runner` runs (``invoke(input, config, cancel_token)``)."""

    def __init__(self, drive: Callable[[RunnableConfig, CancelToken], list[Any]]) -> None:
        self._drive = drive

    def invoke(self, input: Any, config: RunnableConfig, *, cancel_token: CancelToken) -> Any:
        return self._drive(config, cancel_token)


class BatchView(PictureDisplays, widgets.VBox):  # type: ignore[misc]
    """Run ``chain`` over ``inputs`` and watch it: ``view = BatchView(chain, inputs)``, show
    ``view``, then ``view.run()`` (blocking) or ``view.start()`` (background).

    ``executor``: ``None`` (here, threads as items block), a
    ``concurrent.futures.Executor``, or a Dask ``Client``; ``config`` and ``chunk_size``
    as for :meth:`~chainviz.core.base.Runnable.batch`. With ``return_exceptions=False``
    the first failed item stops the batch and is raised. ``interval`` is the seconds
    between two updates sent to the browser (at least 0.1), ``clock`` the monotonic
    clock (seconds) they and the throughput are timed with, ``window`` the seconds the
    recent throughput is measured over.
    """

    def __init__(
        self,
        chain: Any,
        inputs: Iterable[Any],
        *,
        executor: Any = None,
        config: RunnableConfig | list[RunnableConfig] | None = None,
        chunk_size: int | None = None,
        return_exceptions: bool = True,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        window: float = DEFAULT_WINDOW,
    ) -> None:
        if interval < DEFAULT_INTERVAL:
            raise ChainvizError(
                f"BatchView sends at most ten updates a second, so interval must be at least "
                f"{DEFAULT_INTERVAL} s, but {interval!r} was given."
            )
        if chunk_size is not None and (
            not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1
        ):
            raise ConfigError(f"chunk_size must be a positive int, but {chunk_size!r} was given.")
        self.chain: Runnable[Any, Any] = coerce_to_runnable(chain, where="BatchView")
        self.inputs = list(inputs)
        self.executor = executor
        self.config = config
        self.chunk_size = chunk_size
        self.return_exceptions = return_exceptions
        self._clock = clock
        self._dask = is_dask_client(executor)
        here = executor is None or isinstance(executor, cf.ThreadPoolExecutor)
        self._state = BatchState(len(self.inputs), steps=_step_labels(self.chain),
                                 tracks_in_flight=here or self._dask, window=window)
        self._lock = threading.Lock()
        self._records: dict[int, ItemRecord] = {}
        self._run_number = 0
        self._failure: BaseException | None = None
        self._stop_asked = False
        self._init_displays()
        self._throttle: Throttle[dict[str, Any]] = Throttle(
            self._render, self._publish, interval=interval, clock=clock
        )
        self._feed = BatchFeed(clock, self._throttle.mark)
        self._timer = RefreshTimer(self._throttle)
        self._runner = Runner(self._begin, self._end)
        self._job = _BatchJob(self._drive)

        self.live = BatchLive(snapshot=self._render())
        self.live.add_class("cv-batch-live")
        self.stop_button = widgets.Button(description="Stop", icon="stop", button_style="danger",
                                          disabled=True, tooltip="Stop the batch")
        self.stop_button.add_class("cv-batch-stop")
        self.stop_button.on_click(lambda _: self.stop())
        controls = widgets.HBox([self.stop_button])
        controls.add_class("cv-batch-controls")
        super().__init__(children=[controls, self.live])
        self.add_class("cv-batchview")

    # ------------------------------------------------------------------ the public API

    def run(self) -> list[Any]:
        """Run the batch here and return :attr:`results`, blocking while the view moves.
        Interrupt (the kernel's stop button) stops the batch and is raised again."""
        return self._runner.run(self._job, None)  # type: ignore[no-any-return]

    def start(self) -> cf.Future[list[Any]]:
        """Run the batch on a background thread; the future gets :attr:`results` (or the
        first error, with ``return_exceptions=False``). The kernel stays free for Stop."""
        return self._runner.start(self._job, None)

    def stop(self) -> bool:
        """Stop the batch (see the module docstring for what stops where); True if one
        was running."""
        self._stop_asked = True
        return self._runner.stop("stopped")

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background run to end; True if none is running any more."""
        return self._runner.wait(timeout)

    @property
    def running(self) -> bool:
        return self._runner.busy

    @property
    def results(self) -> list[Any]:
        """One entry per input, in input order: its output, its exception (items stopped
        hold a :class:`RunCancelled`), or ``None`` while it has not finished."""
        with self._lock:
            records = dict(self._records)
        return [_value(records.get(i)) for i in range(len(self.inputs))]

    @property
    def records(self) -> dict[int, ItemRecord]:
        """The :class:`~chainviz.batching.ItemRecord` of each finished item, by index."""
        with self._lock:
            return dict(sorted(self._records.items()))

    @property
    def summary(self) -> BatchSummary | None:
        """Counts, wall time, throughput, step percentiles and errors (None before a run)."""
        with self._lock:
            self._feed.drain_into(self._state)
            if self._state.status == "idle":
                return None
            return self._state.summary(self._clock())

    @property
    def snapshot(self) -> dict[str, Any]:
        """The state last sent to the browser (nothing is recomputed)."""
        return dict(self.live.snapshot)

    # ------------------------------------------------------------------ the run

    def _begin(self) -> RunnableConfig:
        with self._lock:
            self._feed.queue.clear()
            self._records = {}
            self._failure = None
            self._stop_asked = False
            self._state.begin(self._clock())
            self._run_number += 1
        self.stop_button.disabled = False
        self._timer.start(flush_first=True)
        return {"callbacks": [self._feed]}

    def _configs(self, sink: RunnableConfig) -> RunnableConfig | list[RunnableConfig]:
        def with_sink(config: Mapping[str, Any] | None) -> RunnableConfig:
            config = dict(config or {})
            config["callbacks"] = [*config.get("callbacks", ()), *sink["callbacks"]]
            return config  # type: ignore[return-value]

        if isinstance(self.config, list):
            return [with_sink(c) for c in self.config]
        return with_sink(self.config)

    def _drive(self, sink: RunnableConfig, token: CancelToken) -> list[Any]:
        topic: str | None = None
        unsubscribe: Callable[[], None] = lambda: None  # noqa: E731
        if self._dask:
            topic = f"chainviz-batch-{uuid.uuid4().hex}"
            unsubscribe = self._feed.subscribe(self.executor, topic)
        records = self.chain.batch_records(
            self.inputs, self._configs(sink), executor=self.executor,
            chunk_size=self.chunk_size, topic=topic, cancel_token=token,
        )
        try:
            for record in records:
                with self._lock:
                    self._records[record.index] = record
                self._feed.push("record", record)
                error = record.error
                if (error is not None and not self.return_exceptions and self._failure is None
                        and not isinstance(error, RunCancelled)):
                    self._failure = error
                    token.cancel(f"item {record.index} failed")
        finally:
            close = getattr(records, "close", None)  # a generator: its chunks are cancelled
            if close is not None:
                close()
            unsubscribe()
        if self._failure is not None:
            raise self._failure
        return self.results

    def _end(self, outcome: Outcome) -> None:
        self._timer.stop(flush=False)
        status: BatchStatus
        if self._failure is not None or outcome.status == "error":
            status = "error"
        elif outcome.status == "cancelled" or self._stop_asked:
            status = "cancelled"
        else:
            status = "done"
        self._stop_asked = False
        why = {"error": f"the batch failed ({_describe(self._failure or outcome.error)})",
               "cancelled": f"the batch was {outcome.reason or 'stopped'}"}.get(status, "")
        now = self._clock()
        with self._lock:
            self._feed.drain_into(self._state)
            for index in range(len(self.inputs)):
                if index not in self._records:  # never lost: stopped before it came back
                    record = ItemRecord(index, error=RunCancelled(
                        f"Item {index} did not finish: {why or 'the batch ended'}."))
                    self._records[index] = record
                    self._state.add_record(record, now)
            self._state.finish(status, now)
        self._throttle.flush()
        self.stop_button.disabled = True
        self._update_displays()

    # ------------------------------------------------------------------ rendering

    def _render(self) -> dict[str, Any]:
        with self._lock:
            self._feed.drain_into(self._state)
            snapshot = self._state.snapshot(self._clock())
        snapshot["run"] = self._run_number
        return snapshot

    def _publish(self, snapshot: dict[str, Any]) -> None:
        with self.live.hold_sync():
            self.live.snapshot = snapshot

    # ------------------------------------------------------------------ display

    def _mimebundle(self) -> dict[str, Any]:
        bundle: dict[str, Any] = dict(super()._repr_mimebundle_() or {})
        snapshot = self.snapshot
        bundle["image/svg+xml"] = batch_svg(snapshot)
        bundle["text/plain"] = batch_text(snapshot)
        return bundle

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        return self._mimebundle()

    def _ipython_display_(self) -> None:
        """Display the view with its picture, so that a saved notebook keeps the last state."""
        self._display_with_picture()

    def __repr__(self) -> str:
        where = "here" if self.executor is None else type(self.executor).__name__
        return (f"<BatchView of {self.chain.get_name()} over {len(self.inputs)} inputs "
                f"({where}): {self._state.status}>")


def _step_labels(chain: Runnable[Any, Any]) -> list[tuple[str, str]]:
    """The chain's node ids in graph order with one-line labels (none without the graph)."""
    try:
        graph = chain.get_graph()
    except (ChainvizError, ImportError):
        return []
    labels = [(node.id, (node.label.splitlines() or [node.name])[0]) for node in graph.nodes]
    return [(i, label if i else f"{label} (whole chain)") for i, label in labels]


def _value(record: ItemRecord | None) -> Any:
    if record is None:
        return None
    return record.output if record.error is None else record.error


def _describe(error: BaseException | None) -> str:
    return "unknown error" if error is None else f"{type(error).__name__}: {error}"

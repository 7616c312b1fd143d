"""``ChainView``: a chain's graph, live latency bars, outputs, an input form, Run and Stop.

The widget is a thin view (DESIGN decision 7). It wires the pure parts together:

* its event sink appends each event to a queue and to the run's
  :class:`~chainviz.trace.Recorder`, and marks the :class:`Throttle` dirty — nothing else;
* a :class:`RefreshTimer` folds the queued events into a :class:`LiveState` at most ten
  times a second and sends one snapshot (one comm message) to the browser, where
  ``static/chainview.js`` draws it and animates running bars with its own clock;
* a :class:`Runner` runs the chain in the foreground (:meth:`ChainView.run`), awaited
  (:meth:`ChainView.arun`) or in the background (:meth:`ChainView.start`, the Run
  button), with Stop cancelling it.

``ChainView`` is a ``VBox``: its ``children`` are the controls and the live view, and
more panels can be added after them (:meth:`ChainView.add_panel`). A chain with prompts
gets the prompt lab's panel (:mod:`chainviz.widgets.promptlab`) that way.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

from chainviz.core import events as ev
from chainviz.core.base import Runnable
from chainviz.core.coerce import coerce_to_runnable
from chainviz.core.config import RunnableConfig
from chainviz.errors import ChainvizError
from chainviz.trace import Recorder, Trace
from chainviz.widgets.displays import PictureDisplays
from chainviz.widgets.form import InputForm
from chainviz.widgets.promptlab.book import PromptVersion
from chainviz.widgets.promptlab.panel import PromptLab, open_book
from chainviz.widgets.promptlab.viewapi import NO_INPUT, PromptLabAPI
from chainviz.widgets.runner import Outcome, Runner
from chainviz.widgets.state import Lane, LiveState, Summary, lanes_of_graph, lanes_of_trace
from chainviz.widgets.static_picture import picture_svg, picture_text
from chainviz.widgets.throttle import DEFAULT_INTERVAL, RefreshTimer, Throttle

__all__ = ["ChainView", "LiveView"]

STATIC = Path(__file__).parent / "static"
_NO_INPUT: Any = NO_INPUT


class LiveView(anywidget.AnyWidget):
    """The custom part of the view: graph, bars, summary and outputs, drawn in the browser."""

    _esm = STATIC / "chainview.js"
    _css = STATIC / "chainview.css"

    #: The graph's SVG from :mod:`chainviz.graph` (escaped there; inserted as markup).
    graph_svg = traitlets.Unicode("").tag(sync=True)
    #: The graph as text, shown (as text) when no SVG could be drawn.
    graph_text = traitlets.Unicode("").tag(sync=True)
    #: ``[{"id", "label", "kind"}, …]``: one bar per lane.
    lanes = traitlets.List(traitlets.Dict()).tag(sync=True)
    #: The state to draw (see :meth:`LiveState.snapshot`), plus ``run``: the run's number.
    snapshot = traitlets.Dict().tag(sync=True)


class _Sink:
    """What the core calls for every event: append, append, mark. Cheap on purpose."""

    __slots__ = ("mark", "queue", "recorder")

    def __init__(self, queue: collections.deque[ev.RunEvent], recorder: Recorder,
                 mark: Callable[[], None]) -> None:
        self.queue = queue
        self.recorder = recorder
        self.mark = mark

    def on_event(self, event: ev.RunEvent) -> None:
        self.recorder.on_event(event)
        self.queue.append(event)
        self.mark()


class ChainView(PictureDisplays, PromptLabAPI, widgets.VBox):  # type: ignore[misc]
    """Run a chain and watch it: ``view = ChainView(chain)``, then ``view.run(input)``.

    Give a :class:`~chainviz.trace.Trace` instead (``ChainView(trace=t)``, or
    ``chainviz.show(t)``) to look at a saved run; with ``chain=`` too, its graph is drawn.
    ``interval`` is the seconds between two updates sent to the browser (at least 0.1);
    ``clock`` is the monotonic clock (seconds) the updates are timed with.

    **Prompt lab.** Every prompt of the chain is listed by node id, editable; Run uses
    each prompt's current version. ``view.chain`` is the chain with the edits (pick a
    version from Python with ``config={"configurable": {"prompt:<node id>": name}}``),
    ``view.prompts`` every version as plain data, ``view.compare(...)`` and
    ``view.compare_alternatives(...)`` put runs side by side. To keep what you type
    across re-run cells and kernel restarts, give a file: ``ChainView(chain,
    prompts="prompts.json")`` reads it and writes every change to it; or save
    ``json.dump(view.prompts, f)`` and restore with ``ChainView(chain, prompts=data)``.
    """

    def __init__(
        self,
        chain: Any = None,
        *,
        trace: Trace | None = None,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        prompts: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    ) -> None:
        if chain is None and trace is None:
            raise ChainvizError(
                "ChainView needs a chain to run or a trace to show, but neither was given: "
                "ChainView(chain) or ChainView(trace=trace)."
            )
        if interval < DEFAULT_INTERVAL:
            raise ChainvizError(
                f"ChainView sends at most ten updates a second, so interval must be at least "
                f"{DEFAULT_INTERVAL} s, but {interval!r} was given."
            )
        self._chain: Runnable[Any, Any] | None = (
            None if chain is None else coerce_to_runnable(chain, where="ChainView")
        )
        self._runs: list[Trace | Recorder] = []
        self._versions: list[dict[str, PromptVersion] | None] = []  # per run, as _runs
        self._next_versions: dict[str, PromptVersion] | None = None
        self._graph = self._chain.get_graph() if self._chain is not None else None
        lanes = lanes_of_graph(self._graph) if self._graph is not None else (
            lanes_of_trace(trace) if trace is not None else ())
        self._state = LiveState(lanes)
        self._lock = threading.Lock()
        self._queue: collections.deque[ev.RunEvent] = collections.deque()
        self._recorder = Recorder()
        self._run_number = 0
        self._init_displays()
        self._shown_in: int | None = None
        self._throttle: Throttle[dict[str, Any]] = Throttle(
            self._render, self._publish, interval=interval, clock=clock
        )
        self._timer = RefreshTimer(self._throttle)
        self._runner = Runner(self._begin, self._end)

        if trace is not None:
            self._runs.append(trace)
            self._versions.append(None)
            self._state.load_trace(trace)
        graph_svg, graph_text = self._graph_pictures()
        self.live = LiveView(lanes=[lane.to_json() for lane in lanes], graph_svg=graph_svg,
                             graph_text=graph_text, snapshot=self._render())
        self.live.add_class("cv-live")
        controls: list[Any] = []
        self.form = None
        self.book = self.lab = None
        if self._chain is not None:
            schema = self._chain.get_input_schema()
            self.form = InputForm(schema)
            self.book = open_book(self._chain, schema, prompts)
            self.run_button = widgets.Button(description="Run", icon="play",
                                             button_style="primary", tooltip="Run the chain")
            self.stop_button = widgets.Button(description="Stop", icon="stop",
                                              button_style="danger", disabled=True,
                                              tooltip="Cancel the running branches")
            self.run_button.add_class("cv-run")
            self.stop_button.add_class("cv-stop")
            self.run_button.on_click(lambda _: self._clicked_run())
            self.stop_button.on_click(lambda _: self.stop())
            buttons = widgets.HBox([self.run_button, self.stop_button],
                                   layout=widgets.Layout(flex="0 0 auto"))
            controls = [widgets.HBox([self.form.widget, buttons],
                                     layout=widgets.Layout(align_items="center"))]
            controls[0].add_class("cv-controls")
        super().__init__(children=[*controls, self.live])
        self.add_class("cv-chainview")
        if self.book is not None and len(self.book):
            form = self.form
            self.lab = PromptLab(self.book, history=self._history_versions,
                                 get_input=lambda: form.value() if form else None)
            self.add_panel(self.lab.widget)

    # ------------------------------------------------------------------ the public API

    @property
    def history(self) -> list[Trace]:
        """Every run of this view, oldest first, each a :class:`~chainviz.trace.Trace`."""
        with self._lock:
            for index, run in enumerate(self._runs):
                if isinstance(run, Recorder):
                    self._runs[index] = run.last
            return list(self._runs)  # type: ignore[arg-type]

    @property
    def trace(self) -> Trace | None:
        """The last run's trace (None before the first run)."""
        history = self.history
        return history[-1] if history else None

    @property
    def summary(self) -> Summary | None:
        """Wall time, sum of the lanes' times and speedup of the last run."""
        with self._lock:
            return self._state.summary()

    @property
    def snapshot(self) -> dict[str, Any]:
        """The state last sent to the browser (nothing is recomputed)."""
        return dict(self.live.snapshot)

    @property
    def running(self) -> bool:
        return self._runner.busy

    def run(self, input: Any = _NO_INPUT) -> Any:
        """Run the chain and return its output, blocking while the bars move.

        Without ``input``, the form's values are used. Interrupt (the kernel's stop
        button) cancels the running branches and keeps what had finished.
        """
        chain, input = self._prepare(input)
        return self._runner.run(chain, input)

    async def arun(self, input: Any = _NO_INPUT) -> Any:
        """Await the run (``await view.arun(input)``): the same as :meth:`run`, not blocking."""
        chain, input = self._prepare(input)
        return await self._runner.arun(chain, input)

    def start(self, input: Any = _NO_INPUT) -> Any:
        """Start a run in the background and return a ``concurrent.futures.Future`` for its
        output; the kernel stays free, so Stop is heard."""
        chain, input = self._prepare(input)
        return self._runner.start(chain, input)

    def stop(self) -> bool:
        """Cancel the running branches (finished ones keep their outputs); True if a run
        was going on."""
        return self._runner.stop("stopped")

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background run to end; True if none is running any more."""
        return self._runner.wait(timeout)

    def add_panel(self, panel: Any) -> None:
        """Add a widget below the live view (a later prompts panel, notes, …)."""
        self.children = (*self.children, panel)  # type: ignore[has-type]

    # ------------------------------------------------------------------ the run's hooks

    def _prepare(self, input: Any) -> tuple[Runnable[Any, Any], Any]:
        chain = self.chain
        if chain is None or self.form is None:
            raise ChainvizError(
                "This view shows a saved trace and has no chain to run; show a chain to run it: "
                "chainviz.show(chain)."
            )
        if input is _NO_INPUT:
            input = self.form.value()
        else:
            self.form.fill(input)
        if self.book is not None and not self._runner.busy:  # busy: the runner refuses it
            self._next_versions = self.book.versions()
        return chain, input

    def _clicked_run(self) -> None:
        if not self._runner.busy and (self.lab is None or self.lab.ready()):
            self.start()

    def _begin(self) -> RunnableConfig:
        with self._lock:
            self._queue.clear()
            self._recorder = Recorder()
            self._state.reset()
            self._run_number += 1
        self._set_controls(running=True)
        self._timer.start(flush_first=True)
        return {"callbacks": [_Sink(self._queue, self._recorder, self._throttle.mark)]}

    def _end(self, outcome: Outcome) -> None:
        self._timer.stop(flush=False)
        with self._lock:
            self._drain()
            self._state.finish(outcome.status, end_ns=outcome.end_ns or ev.clock(),
                               reason=outcome.reason)
            if self._state.t0 is not None:  # the run got as far as its first event
                self._runs.append(self._recorder)  # its Trace is built when asked for
                self._versions.append(self._next_versions)
        self._throttle.flush()
        self._set_controls(running=False)
        self._update_displays()
        if self.lab is not None:
            self.lab.refresh_runs()

    def _set_controls(self, *, running: bool) -> None:
        if self.form is None:
            return
        self.run_button.disabled = running
        self.stop_button.disabled = not running

    # ------------------------------------------------------------------ rendering

    def _drain(self) -> None:
        queue, apply = self._queue, self._state.apply
        while queue:
            apply(queue.popleft())

    def _render(self) -> dict[str, Any]:
        with self._lock:
            self._drain()
            snapshot = self._state.snapshot(ev.clock())
        snapshot["run"] = self._run_number
        return snapshot

    def _publish(self, snapshot: dict[str, Any]) -> None:
        with self.live.hold_sync():
            self.live.snapshot = snapshot

    def _graph_pictures(self) -> tuple[str, str]:
        """The graph as SVG ("" without Graphviz: the text picture stands in) and as text."""
        if self._graph is None:
            return "", ""
        try:
            svg = self._graph.to_svg()
        except ChainvizError:
            svg = ""
        return svg, self._graph.draw_ascii()

    # ------------------------------------------------------------------ display

    def _mimebundle(self) -> dict[str, Any]:
        bundle: dict[str, Any] = dict(super()._repr_mimebundle_() or {})
        lanes = [Lane(**lane) for lane in self.live.lanes]
        snapshot = self.snapshot
        graph_svg: str | None = None
        graph_text: str | None = None
        if self._graph is not None:
            try:
                graph_svg = self._graph.to_svg(self.trace)
            except ChainvizError:
                graph_svg = None
            graph_text = self._graph.draw_ascii(self.trace)
        bundle["image/svg+xml"] = picture_svg(graph_svg, lanes, snapshot)
        bundle["text/plain"] = picture_text(graph_text, lanes, snapshot)
        return bundle

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        return self._mimebundle()

    def _ipython_display_(self) -> None:
        """Display the view (widget, picture and text) so that each run can update the
        picture a saved notebook keeps."""
        from IPython import get_ipython

        shell = get_ipython()
        count = getattr(shell, "execution_count", None)
        if self._shown_in is not None and self._shown_in == count and _from_displayhook():
            self._shown_in = None
            return  # chainviz.show() displayed it in this cell already
        self._display_with_picture()

    def __repr__(self) -> str:
        what = self._chain.get_name() if self._chain is not None else "a saved trace"
        return f"<ChainView of {what}: {len(self.history)} run(s)>"


def _from_displayhook() -> bool:
    """True when IPython's display hook (a cell's last value) is what displays us."""
    try:
        from IPython.core.displayhook import DisplayHook
    except ImportError:
        return False
    frame = sys._getframe(1)
    for _ in range(12):
        if frame is None:
            return False
        if isinstance(frame.f_locals.get("self"), DisplayHook):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def show(obj: Any, *, chain: Any = None, prompts: Any = None) -> ChainView:
    """Display a live view of a chain (or of a saved :class:`~chainviz.trace.Trace`) and
    return it: ``view = chainviz.show(chain)``, then ``view.run(input)``. ``prompts``:
    the prompt lab's versions to restore, or a JSON file to keep them in (see
    :class:`ChainView`)."""
    view = (ChainView(trace=obj, chain=chain, prompts=prompts) if isinstance(obj, Trace)
            else ChainView(obj, prompts=prompts))
    try:
        from IPython import get_ipython
    except ImportError:
        return view
    shell = get_ipython()
    if shell is not None:
        view._ipython_display_()
        view._shown_in = getattr(shell, "execution_count", None)
    return view

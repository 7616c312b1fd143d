"""The prompt lab's widgets: one editor per prompt, and a panel to compare runs.

The panel is an ``Accordion`` titled "Prompt lab", folded unless a prompt already has
versions (restored ones), so the live view above it stays the first thing to see.

Each editor is a box of plain ipywidgets: the prompt's node id, a dropdown of its
alternatives, one ``Textarea`` per templated message, a check line (✓ or ✗ and
why, updated as you type), a name field with "Save as alternative", and "Run every
alternative". Below the editors: the runs of the view to pick from, "Compare", and
the comparison (escaped HTML, see :mod:`~chainviz.widgets.promptlab.render`).

All state lives in a :class:`~chainviz.widgets.promptlab.book.PromptBook`; the
widgets send what a person does to it and redraw from it after every change
(:meth:`PromptLab.sync`), whoever made the change (Python included). Keys typed in a
``Textarea`` do not reach the notebook's shortcuts: ipywidgets stops them there.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from chainviz.errors import ChainvizError
from chainviz.trace import Trace, wall_time
from chainviz.widgets.promptlab import render
from chainviz.widgets.promptlab.book import PromptBook, PromptState, PromptVersion
from chainviz.widgets.promptlab.compare import Comparison, compare_alternatives, compare_runs
from chainviz.widgets.promptlab.store import read_prompts, write_prompts
from chainviz.widgets.state import format_seconds

__all__ = ["PromptEditor", "PromptLab", "open_book"]

History = Callable[[], Sequence[tuple[Trace, dict[str, PromptVersion] | None]]]

HINT = ("Edit a prompt and press Run: the edit runs as the prompt's 'draft'. Save it under "
        "a name to keep it as an alternative; the dropdown picks which version runs.")


def _rows(text: str) -> int:
    return max(2, min(12, text.count("\n") + 2))


class PromptEditor:
    """The widgets of one prompt; :meth:`sync` shows the book's state of it."""

    def __init__(self, lab: PromptLab, state: PromptState, index: int) -> None:
        self.lab = lab
        self.node_id = state.node_id
        site = state.site
        title = widgets.HTML(
            f'<span class="cv-prompt-id">{render.esc(self.node_id or "(root)")}</span> '
            f'<span class="cv-prompt-kind">{render.esc(site.name)}</span>')
        self.version = widgets.Dropdown(description="version", options=list(state.alternatives),
                                        value=state.current,
                                        style={"description_width": "initial"},
                                        layout=widgets.Layout(width="auto"))
        self.version.add_class("cv-prompt-version")
        self.texts: list[Any] = []
        several = len(site.roles) > 1
        for role, text in zip(site.roles, state.texts()):
            area = widgets.Textarea(value=text, description=role if several else "",
                                    description_allow_html=False, rows=_rows(text),
                                    continuous_update=True,
                                    layout=widgets.Layout(width="100%"))
            area.add_class("cv-prompt-text")
            area.observe(self._typed, names="value")
            self.texts.append(area)
        self.status = widgets.HTML()
        self.status.add_class("cv-prompt-status")
        self.name = widgets.Text(placeholder="name for this version, e.g. short",
                                 layout=widgets.Layout(width="18em"))
        self.name.add_class("cv-prompt-name")
        self.save = widgets.Button(description="Save as alternative", icon="save",
                                   tooltip="Keep the text above under this name",
                                   layout=widgets.Layout(width="auto"))
        self.save.add_class("cv-prompt-save")
        self.run_all = widgets.Button(description="Run every alternative", icon="columns",
                                      tooltip="Run each version on the form's input, in one "
                                      "batch, and compare them",
                                      layout=widgets.Layout(width="auto"))
        self.run_all.add_class("cv-prompt-runall")
        self.version.observe(self._chosen, names="value")
        self.save.on_click(lambda _: self._save())
        self.run_all.on_click(lambda _: lab.start_alternatives(self.node_id))
        head = widgets.HBox([title, self.version])
        head.add_class("cv-prompt-head")
        actions = widgets.HBox([self.name, self.save, self.run_all])
        self.box = widgets.VBox([head, *self.texts, self.status, actions])
        self.box.add_class("cv-prompt")
        self.box.add_class(f"cv-prompt-{index}")
        self._syncing = False
        self.sync(state)

    def sync(self, state: PromptState) -> None:
        self._syncing = True
        try:
            options = list(state.alternatives)
            with self.version.hold_sync():  # options and choice in one message
                if list(self.version.options) != options:
                    self.version.options = options
                self.version.value = state.current
            for area, text in zip(self.texts, state.texts()):
                if area.value != text:
                    area.value = text
                    area.rows = _rows(text)
            self.status.value = render.check_html(state.check(), state.current)
        finally:
            self._syncing = False

    def _typed(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self.lab.act(lambda: self.lab.book.edit(self.node_id,
                                                    tuple(a.value for a in self.texts)))

    def _chosen(self, change: dict[str, Any]) -> None:
        if not self._syncing and change["new"] is not None:
            self.lab.act(lambda: self.lab.book.select(self.node_id, change["new"]))

    def _save(self) -> None:
        name = self.name.value
        if self.lab.act(lambda: self.lab.book.save(self.node_id, name)):
            self.name.value = ""
            self.lab.say(f"Saved {name.strip()!r} for prompt {self.node_id!r}; it is the "
                         "version that runs now.")


class PromptLab:
    """The panel: an editor per prompt of ``book``, run picking and the comparison.

    ``history()`` gives the view's runs with the versions they used; ``get_input()``
    the form's input (for "Run every alternative").
    """

    def __init__(self, book: PromptBook, *, history: History,
                 get_input: Callable[[], Any]) -> None:
        self.book = book
        self._history = history
        self._get_input = get_input
        self._lock = threading.Lock()
        self.comparison: Comparison | None = None
        header = widgets.HTML(
            f'{render.style_tag()}<div class="cv-promptlab tex2jax_ignore">'
            f'<div class="cv-lab-hint">{render.esc(HINT)}</div></div>')
        self.message = widgets.HTML(render.message_html(""))
        self.message.add_class("cv-lab-message-box")
        self.editors = {state.node_id: PromptEditor(self, state, index)
                        for index, state in enumerate(book.states())}
        self.runs = widgets.SelectMultiple(options=[], rows=4, description="runs",
                                           layout=widgets.Layout(width="44em"))
        self.runs.add_class("cv-compare-runs")
        self.compare_button = widgets.Button(description="Compare", icon="columns",
                                             tooltip="Show the selected runs side by side")
        self.compare_button.add_class("cv-compare-button")
        self.compare_button.on_click(lambda _: self.act(self._compare_selected))
        self.output = widgets.HTML("")
        self.output.add_class("cv-comparison")
        picker = widgets.HBox([self.runs, self.compare_button],
                              layout=widgets.Layout(align_items="flex-start"))
        self.body = widgets.VBox([header, *(e.box for e in self.editors.values()),
                                  self.message, picker, self.output])
        self.body.add_class("cv-promptlab")
        # Folded until there is something in it beyond the chain's own prompts, so the
        # live view stays the first thing a person sees.
        count = len(self.editors)
        edited = any(len(state.alternatives) > 1 for state in book.states())
        self.widget = widgets.Accordion(
            children=[self.body],
            titles=(f"Prompt lab · {count} prompt{'s' if count != 1 else ''}",),
            selected_index=0 if edited else None,
        )
        self.widget.add_class("cv-promptlab-fold")
        book.on_change(lambda _: self.sync())
        self.refresh_runs()

    # ------------------------------------------------------------------ state

    def sync(self) -> None:
        """Show the book's state in every editor."""
        for state in self.book.states():
            editor = self.editors.get(state.node_id)
            if editor is not None:
                editor.sync(state)

    def say(self, text: str, *, bad: bool = False) -> None:
        self.message.value = render.message_html(text, bad=bad)

    def act(self, action: Callable[[], Any]) -> bool:
        """Do what a person asked; a chainviz error is shown in the message line."""
        try:
            action()
        except ChainvizError as exc:
            self.say(str(exc), bad=True)
            return False
        self.say("")
        return True

    def ready(self) -> bool:
        """True when every current version can run; otherwise say why, and False."""
        problems = self.book.problems()
        if problems:  # first lines only: the prompt's own check line shows the caret
            self.say("Not run: " + " ".join(p.split("\n", 1)[0] for p in problems), bad=True)
            return False
        return True

    # ------------------------------------------------------------------ comparing

    def refresh_runs(self) -> None:
        """List the view's runs, newest last, and select the last two."""
        history = self._history()
        options = [(_run_label(i, trace, versions), i)
                   for i, (trace, versions) in enumerate(history)]
        self.runs.options = options
        self.runs.value = tuple(i for _, i in options[-2:])

    def show(self, comparison: Comparison) -> Comparison:
        self.comparison = comparison
        self.output.value = comparison.to_html()
        return comparison

    def compare(self, picks: Sequence[int]) -> Comparison:
        return self.show(compare_runs(self._history(), picks))

    def _compare_selected(self) -> None:
        self.compare(list(self.runs.value))

    def compare_alternatives(self, node_id: str, inputs: Sequence[Any],
                             names: Sequence[str] | None = None) -> Comparison:
        return self.show(compare_alternatives(self.book, node_id, inputs, names))

    def start_alternatives(self, node_id: str) -> None:
        """"Run every alternative": one batch on a thread, so the kernel stays free."""
        if not self._lock.acquire(blocking=False):
            self.say("The alternatives are already running.", bad=True)
            return
        editor = self.editors[node_id]
        editor.run_all.disabled = True
        self.say(f"Running every alternative of prompt {node_id!r}…")

        def work() -> None:
            try:
                if self.act(lambda: self.compare_alternatives(node_id, [self._get_input()])):
                    self.say(f"Compared the alternatives of prompt {node_id!r}.")
            except Exception as exc:  # shown, not lost on a thread nobody watches
                self.say(f"Running the alternatives failed: {type(exc).__name__}: {exc}",
                         bad=True)
            finally:
                editor.run_all.disabled = False
                self._lock.release()

        threading.Thread(target=work, name="chainviz-alternatives", daemon=True).start()


def _run_label(index: int, trace: Trace, versions: dict[str, PromptVersion] | None) -> str:
    took = format_seconds(wall_time(trace))
    label = f"run {index + 1} · {trace.status} · {took}"
    if versions:
        label += " · " + ", ".join(f"{node_id}: {v.name}" for node_id, v in versions.items())
    return label


def open_book(chain: Any, schema: Any, prompts: Any) -> PromptBook:
    """The book of ``chain``'s prompts, restored from ``prompts``: data as
    ``view.prompts`` gives it, or the path of a JSON file (read now if it exists, and
    written after every change)."""
    store: Path | None = None
    data = prompts
    if isinstance(prompts, (str, os.PathLike)):
        store = Path(prompts)
        data = read_prompts(store)
    book = PromptBook(chain, schema=schema, data=data)
    if store is not None:
        save = _autosave(store)
        book.on_change(save)
        save(book)
    return book


def _autosave(path: Path) -> Callable[[PromptBook], None]:
    failed: list[str] = []

    def save(book: PromptBook) -> None:
        try:
            write_prompts(path, book.to_data())
        except OSError as exc:  # warn once; the lab keeps working in memory
            if not failed:
                failed.append(str(exc))
                warnings.warn(f"The prompt lab could not write {str(path)!r} ({exc}); "
                              "edits are kept in view.prompts only.", stacklevel=2)

    return save

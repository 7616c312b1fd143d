"""The prompt lab's part of :class:`~chainviz.widgets.ChainView`'s API.

``ChainView`` mixes this class in; it sets the attributes declared here (the chain
as given, the form, the prompt book and panel, each run's prompt versions) and keeps
:attr:`history`. Written apart so that the view's module stays about the live view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chainviz.core.base import Runnable
from chainviz.errors import ChainvizError
from chainviz.widgets.promptlab.book import PromptBook, PromptVersion
from chainviz.widgets.promptlab.compare import Comparison, compare_runs

if TYPE_CHECKING:
    from chainviz.trace import Trace
    from chainviz.widgets.form import InputForm
    from chainviz.widgets.promptlab.panel import PromptLab

__all__ = ["NO_INPUT", "PromptLabAPI"]

#: "No input given": the form's values are used.
NO_INPUT: Any = object()


class PromptLabAPI:
    """``chain``, ``prompts``, ``compare`` and ``compare_alternatives`` of a view.

    ``view.book`` (a :class:`~chainviz.widgets.promptlab.book.PromptBook`) is the Python
    twin of the lab's buttons: ``book.edit(node_id, text)`` types a draft,
    ``book.save(node_id, name)`` saves it as an alternative, ``book.select(node_id,
    name)`` picks the version Run uses, and ``book.problems()`` lists what the checks
    flag. The panel follows every change made there.
    """

    _chain: Runnable[Any, Any] | None
    _versions: list[dict[str, PromptVersion] | None]
    form: InputForm | None
    book: PromptBook | None
    lab: PromptLab | None

    @property
    def history(self) -> list[Trace]:
        raise NotImplementedError  # the view's own

    @property
    def chain(self) -> Runnable[Any, Any] | None:
        """The chain with the prompt lab's edits: each prompt is the current version, and
        ``config={"configurable": {"prompt:<node id>": name}}`` picks another. Node ids
        are the same as in the chain given."""
        if self.book is not None and len(self.book):
            return self.book.chain()
        return self._chain

    @property
    def prompts(self) -> dict[str, Any]:
        """Every prompt's versions as plain data, ``{node id: {"current": name,
        "alternatives": {name: template}}}``; ``ChainView(chain, prompts=...)`` restores it
        (``view.prompts = data`` too)."""
        return {} if self.book is None else self.book.to_data()

    @prompts.setter
    def prompts(self, data: Mapping[str, Any]) -> None:
        if self.book is None:
            raise ChainvizError("This view shows a saved trace; it has no prompts to set.")
        self.book.load(data)

    def compare(self, *runs: int) -> Comparison:
        """Runs of :attr:`history` side by side, by index (default: the last two): the
        prompt versions with a diff, the outputs, latency per branch and tokens."""
        history = self._history_versions()
        picks = list(runs) if runs else [-2, -1]
        comparison = compare_runs(history, picks)
        return self.lab.show(comparison) if self.lab is not None else comparison

    def compare_alternatives(
        self,
        input: Any = NO_INPUT,
        *,
        inputs: Sequence[Any] | None = None,
        node_id: str | None = None,
        names: Sequence[str] | None = None,
    ) -> Comparison:
        """Run every alternative (or ``names``) of the prompt at ``node_id`` (default: the
        first prompt with several) on ``input`` (default: the form's), or on each of
        ``inputs``, all in one ``batch``, and show them side by side."""
        if self.book is None or self.lab is None or self.form is None:
            raise ChainvizError(
                "This view's chain has no prompt, so there are no alternatives to compare."
            )
        if node_id is None:
            states = self.book.states()
            several = [s.node_id for s in states if len(s.alternatives) > 1]
            node_id = several[0] if several else states[0].node_id
        if inputs is None:
            inputs = [self.form.value() if input is NO_INPUT else input]
        return self.lab.compare_alternatives(node_id, list(inputs), names)

    def _history_versions(self) -> list[tuple[Trace, dict[str, PromptVersion] | None]]:
        return list(zip(self.history, self._versions))

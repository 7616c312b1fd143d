"""Runs side by side: which prompt versions they used, what they output, where the
time went and how many tokens they took — as data (pure, no widgets).

A :class:`Comparison` has one :class:`RunColumn` per run compared: a run of the
view's history (:func:`compare_runs`), or one alternative of a prompt run on the
same input(s) (:func:`compare_alternatives`, one ``batch`` for every alternative and
input at once). A column of several inputs reports medians of the latencies and
totals of the tokens. :meth:`Comparison.to_html` draws it (see
:mod:`~chainviz.widgets.promptlab.render`), :meth:`Comparison.to_dict` gives the
numbers.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chainviz.core.config import RunnableConfig
from chainviz.errors import ChainvizError, ConfigError
from chainviz.trace import Recorder, Trace, branch_latencies, wall_time
from chainviz.trace.usage import MODEL_KINDS
from chainviz.widgets.promptlab.book import PromptBook, PromptVersion
from chainviz.widgets.promptlab.sites import config_id
from chainviz.widgets.state import preview

__all__ = ["Comparison", "RunColumn", "compare_alternatives", "compare_runs"]

Versions = Mapping[str, PromptVersion]


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known and len(known) == len(values) else None


def _within(node_id: str, branch: str) -> bool:
    return branch == "" or node_id == branch or node_id.startswith(branch + "/")


def _error_text(trace: Trace) -> str:
    for run in (trace.root, *trace.runs):
        if run.error is not None:
            return f"{run.error.type.rsplit('.', 1)[-1]}: {run.error.message}"
    return trace.root.reason or trace.status


@dataclass(frozen=True)
class RunColumn:
    """One run compared (or one alternative over several inputs): ``traces`` holds one
    trace per input; ``versions`` the prompt versions it used (None: not known)."""

    label: str
    traces: tuple[Trace, ...]
    versions: Versions | None = None

    @property
    def inputs(self) -> list[Any]:
        return [trace.root.input for trace in self.traces]

    @property
    def status(self) -> str:
        statuses = [trace.status for trace in self.traces]
        for worst in ("error", "cancelled", "running"):
            if worst in statuses:
                return worst
        return "done"

    def outputs(self) -> list[str]:
        """Each input's output as text, or its error."""
        return [
            preview(trace.output) if trace.status == "done" else _error_text(trace)
            for trace in self.traces
        ]

    @property
    def wall_s(self) -> float | None:
        return _median([wall_time(trace) for trace in self.traces])

    def branches(self) -> dict[str, float | None]:
        """Seconds per branch (the median over the inputs)."""
        per_trace = [branch_latencies(trace) for trace in self.traces]
        ids = list(dict.fromkeys(node_id for latencies in per_trace for node_id in latencies))
        return {node_id: _median([lat.get(node_id) for lat in per_trace]) for node_id in ids}

    def tokens(self, branch: str = "") -> tuple[int, int]:
        """(input, output) tokens of the model calls under ``branch`` (all by default),
        added up over the inputs; output tokens are the streamed ones when known."""
        tokens_in = tokens_out = 0
        for trace in self.traces:
            for run in trace.runs:
                if run.kind in MODEL_KINDS and _within(run.node_id, branch):
                    tokens_in += int(run.usage.get("input_tokens", 0))
                    tokens_out += run.tokens or int(run.usage.get("output_tokens", 0))
        return tokens_in, tokens_out

    def to_dict(self) -> dict[str, Any]:
        tokens_in, tokens_out = self.tokens()
        return {
            "label": self.label,
            "versions": None if self.versions is None else {
                node_id: version.to_json() for node_id, version in self.versions.items()
            },
            "inputs": [preview(value) for value in self.inputs],
            "outputs": self.outputs(),
            "status": self.status,
            "wall_s": self.wall_s,
            "branches": self.branches(),
            "tokens": {"input": tokens_in, "output": tokens_out},
        }


@dataclass(frozen=True)
class Comparison:
    """Runs side by side; the first column is the one the others are diffed against."""

    columns: tuple[RunColumn, ...]
    title: str = "Comparison"

    def prompt_ids(self) -> list[str]:
        """The node ids of the prompts any column knows a version of."""
        seen: dict[str, None] = {}
        for column in self.columns:
            seen.update(dict.fromkeys(column.versions or {}))
        return list(seen)

    def branch_ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for column in self.columns:
            seen.update(dict.fromkeys(column.branches()))
        return list(seen)

    @property
    def input_count(self) -> int:
        return max((len(column.traces) for column in self.columns), default=0)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": [column.to_dict() for column in self.columns]}

    def to_html(self) -> str:
        """The comparison as an HTML table; every text in it is escaped."""
        from chainviz.widgets.promptlab.render import comparison_html

        return comparison_html(self)

    def _repr_html_(self) -> str:
        return self.to_html()


def compare_runs(
    history: Sequence[tuple[Trace, Versions | None]], picks: Sequence[int]
) -> Comparison:
    """Runs of a view's history by index (``-1`` is the last), labelled ``run N``."""
    if len(picks) < 2:
        raise ConfigError(
            f"Pick at least two runs to compare, but {len(picks)} was given; the view has "
            f"{len(history)} run(s): view.compare(0, 1), or view.compare() for the last two."
        )
    columns = []
    for pick in picks:
        if not -len(history) <= pick < len(history):
            raise ConfigError(
                f"There is no run {pick} to compare: the view has {len(history)} run(s), "
                f"numbered 0 to {len(history) - 1} (or -1 for the last)."
            )
        index = pick % len(history)
        trace, versions = history[index]
        columns.append(RunColumn(f"run {index + 1}", (trace,), versions))
    return Comparison(tuple(columns), "Runs compared")


def compare_alternatives(
    book: PromptBook,
    node_id: str,
    inputs: Sequence[Any],
    names: Sequence[str] | None = None,
) -> Comparison:
    """Run the prompt at ``node_id`` in each alternative (``names``, default: all that
    are valid) on every input, in one ``batch``; the other prompts keep their choice."""
    state = book.state(node_id)
    if names is None:
        names = [name for name in state.alternatives if state.check(name).problem != "template"]
    if not names:
        raise ConfigError(f"The prompt at {node_id!r} has no alternative that can run.")
    if not inputs:
        raise ConfigError("Give at least one input to run the alternatives on.")
    for name in names:
        if name not in state.alternatives:
            raise ConfigError(
                f"The prompt at {node_id!r} has no alternative {name!r}; it has: "
                f"{', '.join(repr(n) for n in state.alternatives)}."
            )
        check = state.check(name)
        if check.problem == "template":
            raise ChainvizError(f"The alternative {name!r} cannot run. {check.message}",
                                node_id=node_id)
    chain = book.chain({node_id: names[0]})  # runs even while the current one is broken
    current = book.versions()
    items: list[Any] = []
    configs: list[RunnableConfig] = []
    recorders: list[Recorder] = []
    for name in names:
        for value in inputs:
            recorder = Recorder()
            recorders.append(recorder)
            items.append(value)
            configs.append({"configurable": {config_id(node_id): name}, "callbacks": [recorder]})
    chain.batch(items, configs, return_exceptions=True)
    columns = []
    for index, name in enumerate(names):
        block = recorders[index * len(inputs):(index + 1) * len(inputs)]
        traces = tuple(recorder.last for recorder in block if recorder.traces)
        versions = {**current, node_id: PromptVersion(name, state.texts(name))}
        columns.append(RunColumn(name, traces, versions))
    title = f"Alternatives of prompt {node_id!r}"
    if len(inputs) > 1:
        title += f" on {len(inputs)} inputs (one batch; medians of latencies, total tokens)"
    return Comparison(tuple(columns), title)

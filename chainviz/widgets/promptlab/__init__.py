"""The prompt lab: edit and swap a chain's prompts in the view, re-run, compare versions.

The logic is pure and needs no kernel or widgets; only :mod:`.panel` uses ipywidgets.

* :mod:`.sites` — the prompts of a chain by node id, and what input each receives;
* :mod:`.check` — a draft template checked as it is typed (malformed? a variable the
  input will not supply?);
* :mod:`.rebuild` — a copy of the chain with a prompt swapped at a node id, each prompt
  wrapped in ``ConfigurableAlternatives`` keyed ``prompt:<node id>``;
* :mod:`.book` — every prompt's alternatives and current choice, as plain data;
* :mod:`.diff`, :mod:`.compare`, :mod:`.render` — runs side by side, as data and as
  escaped HTML; :mod:`.store` — the data in a JSON file.

``ChainView`` builds the panel (:class:`.panel.PromptLab`) for every chain with a
prompt: ``view.prompts``, ``view.chain``, ``view.compare(...)``,
``view.compare_alternatives(...)``.
"""

from __future__ import annotations

from chainviz.widgets.promptlab.book import PromptBook, PromptState, PromptVersion
from chainviz.widgets.promptlab.check import Check, check_texts
from chainviz.widgets.promptlab.compare import (
    Comparison,
    RunColumn,
    compare_alternatives,
    compare_runs,
)
from chainviz.widgets.promptlab.diff import DiffPart, diff_html, word_diff
from chainviz.widgets.promptlab.rebuild import replace_prompt, with_alternatives
from chainviz.widgets.promptlab.sites import (
    DRAFT,
    ORIGINAL,
    PromptSite,
    Supply,
    config_id,
    find_prompts,
)

__all__ = [
    "DRAFT",
    "ORIGINAL",
    "Check",
    "Comparison",
    "DiffPart",
    "PromptBook",
    "PromptSite",
    "PromptState",
    "PromptVersion",
    "RunColumn",
    "Supply",
    "check_texts",
    "compare_alternatives",
    "compare_runs",
    "config_id",
    "diff_html",
    "find_prompts",
    "replace_prompt",
    "with_alternatives",
    "word_diff",
]

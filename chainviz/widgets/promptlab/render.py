"""HTML for the prompt lab: a comparison table and a prompt's check line.

Every string that came from a user or a run — node ids, alternative names, template
text, inputs, outputs, errors — goes through :func:`html.escape`; the only markup
is the fixed structure written here, and the only styles are numbers (bar widths).
The outer element has the class ``tex2jax_ignore`` so that a ``$`` in a prompt is
not typeset as mathematics. The styles come from ``static/promptlab.css``.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from chainviz.widgets.promptlab.diff import diff_html
from chainviz.widgets.state import format_seconds, preview

if TYPE_CHECKING:
    from chainviz.widgets.promptlab.check import Check
    from chainviz.widgets.promptlab.compare import Comparison, RunColumn

__all__ = ["CSS", "check_html", "comparison_html", "esc", "message_html"]

CSS = (Path(__file__).resolve().parents[1] / "static" / "promptlab.css").read_text()

_GLYPHS = {"done": "✓", "error": "✗", "cancelled": "⊘", "running": "◔"}


def esc(text: object) -> str:
    """``text`` as HTML text: ``<``, ``>``, ``&`` and quotes escaped."""
    return html.escape(str(text), quote=True)


def style_tag() -> str:
    return f"<style>{CSS}</style>"


def check_html(check: Check, name: str) -> str:
    """A prompt's status line: ✓ and what it uses, or ✗ and why it cannot run."""
    kind = "ok" if check.ok else "bad"
    glyph = "✓" if check.ok else "✗"
    lines = check.message.split("\n")
    body = esc(lines[0])
    if len(lines) > 1:  # a template error's line and caret
        body += f'<pre class="cv-check-where">{esc(chr(10).join(lines[1:]))}</pre>'
    return (f'<div class="cv-check cv-check-{kind} tex2jax_ignore">'
            f'<span class="cv-check-name">{esc(name)}</span> {glyph} {body}</div>')


def message_html(text: str, *, bad: bool = False) -> str:
    kind = "bad" if bad else "ok"
    return f'<div class="cv-lab-message cv-check-{kind} tex2jax_ignore">{esc(text)}</div>'


def _texts(texts: tuple[str, ...]) -> str:
    return "".join(f'<pre class="cv-prompt-text">{esc(text)}</pre>' for text in texts)


def _version_cell(column: RunColumn, base: RunColumn, node_id: str, first: bool) -> str:
    version = (column.versions or {}).get(node_id)
    if version is None:
        return '<td class="cv-unknown">not known</td>'
    head = f'<div class="cv-version">{esc(version.name)}</div>'
    base_version = (base.versions or {}).get(node_id)
    if first or base_version is None:
        return f"<td>{head}{_texts(version.texts)}</td>"
    if base_version.texts == version.texts:
        same = f'<div class="cv-same">same text as {esc(base.label)}</div>'
        return f"<td>{head}{same}</td>"
    diffs = "".join(
        f'<pre class="cv-prompt-text cv-diff">{diff_html(old, new)}</pre>'
        for old, new in zip(base_version.texts, version.texts)
    )
    return f'<td>{head}<div class="cv-same">changes from {esc(base.label)}:</div>{diffs}</td>'


def _bar(seconds: float | None, longest: float) -> str:
    if seconds is None:
        return '<span class="cv-num">–</span>'
    width = 100.0 * seconds / longest if longest > 0 else 0.0
    return (f'<div class="cv-cbar"><div class="cv-cbar-fill" style="width:{width:.1f}%">'
            f'</div></div><span class="cv-num">{esc(format_seconds(seconds))}</span>')


def _row(head: str, cells: list[str], cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<tr{attr}><th>{head}</th>{''.join(cells)}</tr>"


def comparison_html(comparison: Comparison) -> str:
    """The comparison as a table: one column per run, one row per thing compared."""
    columns = comparison.columns
    if not columns:
        return f'<div class="cv-compare tex2jax_ignore">{style_tag()}Nothing to compare.</div>'
    base = columns[0]
    rows: list[str] = []
    head = "".join(
        f'<th class="cv-col" data-label="{esc(c.label)}">{_GLYPHS.get(c.status, "")} '
        f"{esc(c.label)}</th>" for c in columns)
    rows.append(f"<tr><th></th>{head}</tr>")
    for node_id in comparison.prompt_ids():
        cells = [_version_cell(c, base, node_id, i == 0) for i, c in enumerate(columns)]
        label = f'prompt <code>{esc(node_id or "(root)")}</code>'
        rows.append(_row(label, cells, "cv-row-prompt"))
    for index in range(comparison.input_count):
        several = comparison.input_count > 1
        inputs = [c.inputs[index] if index < len(c.inputs) else None for c in columns]
        cells = [f'<td><pre class="cv-io">{esc(_input_text(i))}</pre></td>' for i in inputs]
        rows.append(_row(f"input {index + 1}" if several else "input", cells, "cv-row-input"))
        outputs = [c.outputs()[index] if index < len(c.traces) else "" for c in columns]
        cells = [f'<td><pre class="cv-io">{esc(out)}</pre></td>' for out in outputs]
        rows.append(_row(f"output {index + 1}" if several else "output", cells, "cv-row-output"))
    walls = [c.wall_s for c in columns]
    branch_ids = comparison.branch_ids()
    per_branch = [c.branches() for c in columns]
    longest = max([w for w in walls if w is not None] or [0.0])
    rows.append(_row("wall time", [f"<td>{_bar(w, longest)}</td>" for w in walls], "cv-row-wall"))
    if branch_ids != [""]:
        for branch in branch_ids:
            cells = [f"<td>{_bar(b.get(branch), longest)}</td>" for b in per_branch]
            rows.append(_row(f"latency · <code>{esc(branch)}</code>", cells, "cv-row-branch"))
    tokens = [c.tokens() for c in columns]
    cells = [f'<td><span class="cv-num">{i} in · {o} out</span></td>' for i, o in tokens]
    rows.append(_row("tokens", cells, "cv-row-tokens"))
    if len(branch_ids) > 1 and any(out for _, out in tokens):
        for branch in branch_ids:
            cells = [f'<td><span class="cv-num">{c.tokens(branch)[1]} out</span></td>'
                     for c in columns]
            rows.append(_row(f"tokens · <code>{esc(branch)}</code>", cells))
    title = f'<div class="cv-compare-title">{esc(comparison.title)}</div>'
    table = f'<table class="cv-compare-table">{"".join(rows)}</table>'
    return f'<div class="cv-compare tex2jax_ignore">{style_tag()}{title}{table}</div>'


def _input_text(value: object) -> str:
    return preview(value, 400)

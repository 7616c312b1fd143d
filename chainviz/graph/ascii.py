"""A text picture of a graph for terminals and logs, read top to bottom.

Each step is a box holding its name and ``kind · id``; a sequence is its steps
stacked with ``▼`` between them; a fan (parallel, assign) is its own box, then
its branches side by side under their keys, gathered back into one line. When
the branches side by side would be wider than ``max_width``, they are listed one
under another instead, hanging from a line on the left. ``charset="ascii"``
draws with ``+ - | v`` only.

The picture is built from blocks of cells (one cell per terminal column; a wide
character takes two), each knowing the column where its arrow comes in and the
one where it goes out, so blocks line up whatever their sizes.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from chainviz.errors import ConfigError
from chainviz.graph import text
from chainviz.graph.model import Graph, Node
from chainviz.graph.overlay import NodeState, TraceLike, node_states

__all__ = ["draw_ascii"]

LABEL_WIDTH = 32
KEY_WIDTH = 24
GAP = 2


@dataclass(frozen=True, slots=True)
class Glyphs:
    box: str  # ╭ ─ ╮ │ ╰ ╯
    separator: str
    arrow: str
    dotted: str
    joined: str
    #: Junctions by which sides they reach: (up, down, left, right) → character.
    junctions: Mapping[tuple[bool, bool, bool, bool], str]


def _junctions(h: str, v: str, corners: str) -> dict[tuple[bool, bool, bool, bool], str]:
    """Line characters by the sides they reach: (up, down, left, right) → character."""
    tl, tr, bl, br, tee_down, tee_up, tee_right, tee_left, cross = list(corners)
    joints = {
        (False, True, False, True): tl,
        (False, True, True, False): tr,
        (True, False, False, True): bl,
        (True, False, True, False): br,
        (False, True, True, True): tee_down,
        (True, False, True, True): tee_up,
        (True, True, False, True): tee_right,
        (True, True, True, False): tee_left,
        (True, True, True, True): cross,
    }
    table: dict[tuple[bool, bool, bool, bool], str] = {}
    for up, down, left, right in itertools.product((False, True), repeat=4):
        sides = (up, down, left, right)
        if sides in joints:
            table[sides] = joints[sides]
        elif left or right:
            table[sides] = h  # a horizontal run, or its loose end
        else:
            table[sides] = v if up or down else " "
    return table


UNICODE = Glyphs("╭─╮│╰╯", " · ", "▼", "┆", "●", _junctions("─", "│", "┌┐└┘┬┴├┤┼"))
ASCII = Glyphs("+-+|++", " - ", "v", ":", "*", _junctions("-", "|", "+++++++++"))


class Block:
    """A rectangle of cells; ``entry``/``exit`` are the columns where flow comes and goes."""

    __slots__ = ("entry", "exit", "pad", "rows", "width")

    def __init__(self, rows: list[list[str]], width: int, entry: int, exit: int, pad: str) -> None:
        self.rows = rows
        self.width = width
        self.entry = entry
        self.exit = exit
        self.pad = pad  # what continues the exit line downwards


def _cells(value: str) -> list[str]:
    """One string per terminal column: a wide character is followed by an empty cell."""
    cells: list[str] = []
    for char in value:
        width = text.char_width(char)
        if width == 0:
            if cells:
                cells[-1] += char
            continue
        cells.append(char)
        if width == 2:
            cells.append("")
    return cells


def _key_cells(key: str) -> list[str]:
    return _cells(text.shorten(text.clean(key).replace("\n", " "), KEY_WIDTH))


def _put(row: list[str], column: int, cells: list[str]) -> None:
    row[column : column + len(cells)] = cells


def _blank(width: int) -> list[str]:
    return [" "] * width


def _paste(target: list[list[str]], block: Block, top: int, left: int) -> None:
    for offset, row in enumerate(block.rows):
        _put(target[top + offset], left, row)


def _junction_row(
    width: int, ups: set[int], downs: set[int], glyphs: Glyphs
) -> list[str]:
    row = _blank(width)
    points = ups | downs
    low, high = min(points), max(points)
    for column in range(low, high + 1):
        row[column] = glyphs.junctions[
            (column in ups, column in downs, column > low, column < high)
        ]
    return row


class _Drawer:
    def __init__(
        self, graph: Graph, states: Mapping[str, NodeState] | None, glyphs: Glyphs, max_width: int
    ) -> None:
        self.graph = graph
        self.states = states
        self.g = glyphs
        self.max_width = max_width

    def block(self, node: Node) -> Block:
        if node.layout == "chain":
            return self.chain([self.block(child) for child in self.graph.children(node.id)])
        if node.layout == "fan":
            return self.fan(node)
        return self.box(node)

    def box(self, node: Node) -> Block:
        tl, h, tr, v, bl, br = list(self.g.box)
        lines = text.lines(node.label, LABEL_WIDTH)
        where = node.kind + (self.g.separator + node.id if node.id else "")
        lines.append(text.shorten(text.clean(where), LABEL_WIDTH))
        state = self.states.get(node.id) if self.states is not None else None
        if state is not None:
            lines.append(state.caption(plain=self.g is ASCII))
        cells = [_cells(line) for line in lines]
        inner = max(len(c) for c in cells)
        width = inner + 4
        rows = [[tl, *[h] * (width - 2), tr]]
        rows += [[v, " ", *c, *_blank(inner - len(c)), " ", v] for c in cells]
        rows.append([bl, *[h] * (width - 2), br])
        middle = (width - 1) // 2
        return Block(rows, width, middle, middle, v)

    def chain(self, blocks: list[Block]) -> Block:
        offsets = [0]
        for upper, lower in itertools.pairwise(blocks):
            offsets.append(offsets[-1] + upper.exit - lower.entry)
        shift = -min(offsets)
        lefts = [offset + shift for offset in offsets]
        width = max(left + block.width for left, block in zip(lefts, blocks))
        rows: list[list[str]] = []
        for index, (left, block) in enumerate(zip(lefts, blocks)):
            if index:
                above = rows[-1]
                column = lefts[index - 1] + blocks[index - 1].exit
                if above[column] == self.g.box[1]:
                    above[column] = self.g.junctions[(False, True, True, True)]
                arrow = _blank(width)
                arrow[column] = self.g.arrow
                rows.append(arrow)
            top = len(rows)
            rows.extend(_blank(width) for _ in block.rows)
            _paste(rows, block, top, left)
        last = blocks[-1]
        return Block(rows, width, lefts[0] + blocks[0].entry, lefts[-1] + last.exit, last.pad)

    def _branches(self, node: Node) -> list[tuple[str, Block]]:
        branches = [
            (child.key if child.key else '""', self.block(child))
            for child in self.graph.children(node.id)
        ]
        keeps = any(
            e.kind == "keep" and e.source == node.id for e in self.graph.edges
        )
        if keeps:
            branches.append(("input", Block([[self.g.dotted]], 1, 0, 0, self.g.dotted)))
        return branches

    def fan(self, node: Node) -> Block:
        fork = self.box(node)
        branches = self._branches(node)
        wide = self._fan_wide(fork, branches)
        if wide.width <= self.max_width or len(branches) < 2:
            return wide
        return self._fan_tall(fork, branches)

    def _fan_wide(self, fork: Block, branches: list[tuple[str, Block]]) -> Block:
        keys = [_key_cells(key) for key, _ in branches]
        widths = [max(block.width, len(key)) for key, (_, block) in zip(keys, branches)]
        lefts, x = [], 0
        for column_width in widths:
            lefts.append(x)
            x += column_width + GAP
        total = x - GAP
        block_lefts = [
            left + (w - block.width) // 2 for left, w, (_, block) in zip(lefts, widths, branches)
        ]
        entries = [bl + block.entry for bl, (_, block) in zip(block_lefts, branches)]
        exits = [bl + block.exit for bl, (_, block) in zip(block_lefts, branches)]
        # Under the middle branch when there is one, so the fork line meets it straight.
        middle = len(entries) // 2
        center = entries[middle]
        if len(entries) % 2 == 0:
            center = (entries[middle - 1] + center) // 2
        fork_left = center - fork.exit
        shift = max(0, -fork_left)
        fork_left += shift
        center += shift
        lefts = [left + shift for left in lefts]
        block_lefts = [left + shift for left in block_lefts]
        entries = [column + shift for column in entries]
        exits = [column + shift for column in exits]
        width = max(fork_left + fork.width, total + shift)

        rows = [_blank(width) for _ in fork.rows]
        _paste(rows, fork, 0, fork_left)
        rows[-1][center] = self.g.junctions[(False, True, True, True)]
        rows.append(_junction_row(width, {center}, set(entries), self.g))
        key_row, arrow_row = _blank(width), _blank(width)
        for key, entry, left, column_width in zip(keys, entries, lefts, widths):
            start = min(max(entry - len(key) // 2, left), left + column_width - len(key))
            _put(key_row, start, key)
            arrow_row[entry] = self.g.arrow
        rows += [key_row, arrow_row]
        height = max(len(block.rows) for _, block in branches)
        top = len(rows)
        rows.extend(_blank(width) for _ in range(height))
        for (_, block), left, exit_ in zip(branches, block_lefts, exits):
            _paste(rows, block, top, left)
            for row in rows[top + len(block.rows) : top + height]:
                row[exit_] = block.pad
        rows.append(_junction_row(width, set(exits), {center}, self.g))
        return Block(rows, width, fork_left + fork.entry, center, self.g.box[3])

    def _fan_tall(self, fork: Block, branches: list[tuple[str, Block]]) -> Block:
        gutter = fork.exit
        indent = gutter + 4
        width = max(fork.width, indent + max(block.width for _, block in branches),
                    *(indent + len(_key_cells(key)) for key, _ in branches))
        rows = [_blank(width) for _ in fork.rows]
        _paste(rows, fork, 0, 0)
        rows[-1][gutter] = self.g.junctions[(False, True, True, True)]
        h, v = self.g.box[1], self.g.box[3]
        for key, block in branches:
            header = _blank(width)
            line = self.g.dotted if block.pad == self.g.dotted else h
            _put(header, gutter, [self.g.junctions[(True, True, False, True)], line, line, " "])
            _put(header, indent, _key_cells(key))
            rows.append(header)
            if block.pad == self.g.dotted:
                continue  # the kept input has no steps to show
            top = len(rows)
            rows.extend(_blank(width) for _ in block.rows)
            _paste(rows, block, top, indent)
            for row in rows[top:]:
                row[gutter] = v
        end = _blank(width)
        end[gutter] = self.g.joined
        rows.append(end)
        return Block(rows, width, fork.entry, gutter, v)


def draw_ascii(
    graph: Graph,
    trace: TraceLike | None = None,
    *,
    max_width: int = 100,
    charset: str = "unicode",
) -> str:
    """The picture as text (lines end without trailing spaces)."""
    if charset not in ("unicode", "ascii"):
        raise ConfigError(f"charset must be 'unicode' or 'ascii', but {charset!r} was given.")
    glyphs = UNICODE if charset == "unicode" else ASCII
    states = node_states(graph, trace) if trace is not None else None
    block = _Drawer(graph, states, glyphs, max_width).block(graph.root)
    return "\n".join("".join(row).rstrip() for row in block.rows) + "\n"


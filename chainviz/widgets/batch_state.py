"""The live state of a batch, folded from its items as they finish: pure, no widget.

A batch reports each item twice at most, from two sources:

* an **announcement** from a Dask worker as soon as the item finishes (a dict with
  ``index``, ``ok``, ``error`` as ``"Type: message"``, ``durations``, ``worker``), while
  the rest of its chunk still runs; and
* its :class:`~chainviz.batching.ItemRecord`, when the chunk comes back. The record is
  the final word: an announcement arriving after it changes nothing, and a record that
  disagrees with an earlier announcement (a chunk run again after its worker died)
  replaces it.

:class:`BatchState` counts each input once, whatever the order and the repeats. It keeps
done, failed and cancelled items, items in flight (when the batch says when items
start), the throughput over a sliding window and overall, each step's latency
percentiles (p50, p95) from the durations measured where the items ran, the slowest
items, and the errors grouped by type with the first message of each.
:meth:`BatchState.snapshot` is the JSON-ready dict a view draws; time is whatever the
caller passes as ``now`` (seconds on one monotonic clock), so tests use a fake clock.
"""

from __future__ import annotations

import bisect
import collections
import heapq
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from chainviz.errors import RunCancelled

if TYPE_CHECKING:
    from chainviz.batching import ItemRecord

__all__ = [
    "BatchState",
    "BatchStatus",
    "BatchSummary",
    "ErrorGroup",
    "ItemOutcome",
    "StepStats",
    "outcome_of_announcement",
    "outcome_of_record",
    "percentile",
]

BatchStatus = Literal["idle", "running", "done", "error", "cancelled"]
ItemStatus = Literal["done", "failed", "cancelled"]

#: Seconds of the sliding window the recent throughput is measured over.
DEFAULT_WINDOW = 5.0
#: How long an error message may be in the state (the full error is in the records).
MESSAGE_LIMIT = 300


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """One finished item, from either source."""

    index: int
    status: ItemStatus
    error_type: str = ""
    error_message: str = ""
    durations: Mapping[str, float] = field(default_factory=dict)
    worker: str = ""


def outcome_of_record(record: ItemRecord) -> ItemOutcome:
    error = record.error
    if error is None:
        return ItemOutcome(record.index, "done", durations=record.durations, worker=record.worker)
    status: ItemStatus = "cancelled" if isinstance(error, RunCancelled) else "failed"
    return ItemOutcome(record.index, status, type(error).__name__, str(error),
                       record.durations, record.worker)


def outcome_of_announcement(message: Mapping[str, Any]) -> ItemOutcome:
    """An outcome from a Dask worker's announcement (see ``chainviz.batching.worker``)."""
    durations = {str(k): float(v) for k, v in dict(message.get("durations") or {}).items()}
    worker = str(message.get("worker") or "")
    index = int(message["index"])
    if message.get("ok"):
        return ItemOutcome(index, "done", durations=durations, worker=worker)
    kind, _, text = str(message.get("error") or "Error").partition(": ")
    status: ItemStatus = "cancelled" if kind == RunCancelled.__name__ else "failed"
    return ItemOutcome(index, status, kind, text, durations, worker)


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile of sorted values, interpolating between ranks (as numpy)."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True, slots=True)
class StepStats:
    """Latency of one step (node id) over the items that ran it, in seconds."""

    id: str
    label: str
    count: int
    p50: float | None
    p95: float | None
    max: float | None


@dataclass(frozen=True, slots=True)
class ErrorGroup:
    """The failed items of one exception type: how many, and the first one's message."""

    type: str
    count: int
    message: str
    first_index: int


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """Where a batch stands (or how it ended): counts, time, throughput, steps, errors."""

    status: BatchStatus
    total: int
    done: int
    failed: int
    cancelled: int
    wall_s: float
    #: Items finished per second, over the whole batch so far.
    throughput: float | None
    steps: tuple[StepStats, ...]
    errors: tuple[ErrorGroup, ...]

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.cancelled


class _Entry(NamedTuple):
    outcome: ItemOutcome
    final: bool


class BatchState:
    """Counts, rates and percentiles of one batch, updated one item at a time.

    ``steps`` gives the known node ids in display order with their labels (from the
    chain's graph); durations of other ids are shown after them, labelled by id.
    ``tracks_in_flight`` says whether starts are reported (:meth:`started`,
    :meth:`started_unindexed` and :meth:`ended_unindexed`); without, ``in_flight`` is
    ``None`` (unknown).
    """

    def __init__(
        self,
        total: int,
        *,
        steps: Sequence[tuple[str, str]] = (),
        tracks_in_flight: bool = False,
        window: float = DEFAULT_WINDOW,
        slowest: int = 5,
        recent: int = 5,
    ) -> None:
        if not window > 0:
            raise ValueError(f"The throughput window must be above 0 seconds, not {window!r}.")
        self.total = total
        self.window = window
        self.tracks_in_flight = tracks_in_flight
        self._labels = dict(steps)
        self._order = [step_id for step_id, _ in steps]
        self._keep_slowest = slowest
        self._keep_recent = recent
        self.reset()

    def reset(self) -> None:
        self.status: BatchStatus = "idle"
        self.t0: float | None = None
        self.t_end: float | None = None
        self._entries: dict[int, _Entry] = {}
        self._counts = {"done": 0, "failed": 0, "cancelled": 0}
        self._finish_times: collections.deque[float] = collections.deque()
        self._durations: dict[str, list[float]] = {}
        self._slowest: list[tuple[float, int]] = []  # a min-heap of the largest
        self._errors: dict[str, list[Any]] = {}  # type -> [count, first message, first index]
        self._recent: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=self._keep_recent)
        self._running: set[int] = set()
        self._unindexed: set[Hashable] = set()
        self._workers: set[str] = set()

    # ------------------------------------------------------------------ lifecycle

    def begin(self, now: float) -> None:
        self.reset()
        self.status = "running"
        self.t0 = now

    def finish(self, status: BatchStatus, now: float) -> None:
        self.status = status
        self.t_end = now
        self._running.clear()
        self._unindexed.clear()

    # ------------------------------------------------------------------ folding

    def started(self, indices: Iterable[int]) -> None:
        """These items began (a Dask worker started their chunk)."""
        self._running.update(i for i in indices if i not in self._entries)

    def started_unindexed(self, key: Hashable) -> None:
        """An item began whose index is not known (a local run's root step, by its trace
        id: a retry of the same item is the same key)."""
        self._unindexed.add(key)

    def ended_unindexed(self, key: Hashable) -> None:
        """That item's root step ended (its record may reach the batch later)."""
        self._unindexed.discard(key)

    def add(self, outcome: ItemOutcome, now: float, *, final: bool) -> None:
        """Fold one finished item; ``final`` for its record, false for an announcement."""
        old = self._entries.get(outcome.index)
        if old is not None:
            if old.final:
                return  # the record has spoken; a late announcement changes nothing
            same = (old.outcome.status, old.outcome.durations)
            if same == (outcome.status, outcome.durations):
                self._entries[outcome.index] = _Entry(outcome, final)
                return
            self._remove(old.outcome)
        else:
            self._finish_times.append(now)
            self._running.discard(outcome.index)
        self._entries[outcome.index] = _Entry(outcome, final)
        self._count(outcome)

    def add_record(self, record: ItemRecord, now: float) -> None:
        self.add(outcome_of_record(record), now, final=True)

    def add_announcement(self, message: Mapping[str, Any], now: float) -> None:
        self.add(outcome_of_announcement(message), now, final=False)

    def _count(self, outcome: ItemOutcome) -> None:
        self._counts[outcome.status] += 1
        if outcome.worker:
            self._workers.add(outcome.worker.rsplit(":", 1)[0])  # host:pid, not the thread
        for step_id, seconds in outcome.durations.items():
            bisect.insort(self._durations.setdefault(step_id, []), seconds)
        whole = self._whole(outcome)
        if whole is not None:
            if len(self._slowest) < self._keep_slowest:
                heapq.heappush(self._slowest, (whole, outcome.index))
            else:
                heapq.heappushpop(self._slowest, (whole, outcome.index))
        if outcome.status == "failed":
            group = self._errors.get(outcome.error_type)
            if group is None:
                self._errors[outcome.error_type] = [1, _clip(outcome.error_message), outcome.index]
            else:
                group[0] += 1
            self._recent.append({"index": outcome.index, "type": outcome.error_type,
                                 "message": _clip(outcome.error_message),
                                 "worker": outcome.worker})

    def _remove(self, outcome: ItemOutcome) -> None:
        """Undo :meth:`_count` for an announcement its record contradicts (rare)."""
        self._counts[outcome.status] -= 1
        for step_id, seconds in outcome.durations.items():
            values = self._durations.get(step_id, [])
            at = bisect.bisect_left(values, seconds)
            if at < len(values) and values[at] == seconds:
                del values[at]
        if any(index == outcome.index for _, index in self._slowest):
            self._slowest = [item for item in self._slowest if item[1] != outcome.index]
            heapq.heapify(self._slowest)
        if outcome.status == "failed":
            group = self._errors.get(outcome.error_type)
            if group is not None:
                group[0] -= 1
                if group[0] <= 0:
                    del self._errors[outcome.error_type]
            kept = [e for e in self._recent if e["index"] != outcome.index]
            self._recent.clear()
            self._recent.extend(kept)

    @staticmethod
    def _whole(outcome: ItemOutcome) -> float | None:
        if "" in outcome.durations:
            return outcome.durations[""]
        return sum(outcome.durations.values()) if outcome.durations else None

    # ------------------------------------------------------------------ reading

    @property
    def finished(self) -> int:
        return len(self._entries)

    @property
    def in_flight(self) -> int | None:
        if not self.tracks_in_flight:
            return None
        return len(self._running) + len(self._unindexed)

    def elapsed(self, now: float) -> float:
        if self.t0 is None:
            return 0.0
        return (self.t_end if self.t_end is not None else now) - self.t0

    def rates(self, now: float) -> tuple[float | None, float | None]:
        """Items per second over the last ``window`` seconds, and over the whole batch."""
        elapsed = self.elapsed(now)
        if elapsed <= 0:
            return None, None
        end = self.t_end if self.t_end is not None else now
        times = self._finish_times
        while times and times[0] <= end - self.window:
            times.popleft()
        return len(times) / min(self.window, elapsed), self.finished / elapsed

    def step_stats(self) -> list[StepStats]:
        ids = [i for i in self._order if i in self._durations]
        ids += [i for i in self._durations if i not in self._labels]
        stats = []
        for step_id in ids:
            values = self._durations[step_id]
            if not values:
                continue
            label = self._labels.get(step_id) or (step_id or "(whole chain)")
            stats.append(StepStats(step_id, label, len(values), percentile(values, 50),
                                   percentile(values, 95), values[-1]))
        return stats

    def error_groups(self) -> list[ErrorGroup]:
        groups = [ErrorGroup(kind, count, message, first)
                  for kind, (count, message, first) in self._errors.items()]
        return sorted(groups, key=lambda g: (-g.count, g.first_index))

    def summary(self, now: float) -> BatchSummary:
        return BatchSummary(
            self.status, self.total, self._counts["done"], self._counts["failed"],
            self._counts["cancelled"], self.elapsed(now), self.rates(now)[1],
            tuple(self.step_stats()), tuple(self.error_groups()),
        )

    def snapshot(self, now: float) -> dict[str, Any]:
        """The state as plain JSON values, for the browser and the static picture."""
        window_rate, overall_rate = self.rates(now)
        slowest = sorted(self._slowest, reverse=True)
        return {
            "status": self.status,
            "total": self.total,
            "done": self._counts["done"],
            "failed": self._counts["failed"],
            "cancelled": self._counts["cancelled"],
            "finished": self.finished,
            "in_flight": self.in_flight,
            "pending": self.total - self.finished,
            "elapsed_s": self.elapsed(now),
            "rate_window": window_rate,
            "rate_overall": overall_rate,
            "window_s": self.window,
            "workers": len(self._workers),
            "steps": [
                {"id": s.id, "label": s.label, "depth": _depth(s.id), "count": s.count,
                 "p50": s.p50, "p95": s.p95, "max": s.max}
                for s in self.step_stats()
            ],
            "slowest": [
                {"index": index, "seconds": seconds,
                 "status": self._entries[index].outcome.status,
                 "worker": self._entries[index].outcome.worker}
                for seconds, index in slowest
            ],
            "errors": [
                {"type": g.type, "count": g.count, "message": g.message,
                 "first_index": g.first_index}
                for g in self.error_groups()
            ],
            "recent_errors": list(reversed(self._recent)),
        }


def _depth(step_id: str) -> int:
    return 0 if not step_id else step_id.count("/") + 1


def _clip(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"

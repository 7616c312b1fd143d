"""Which lane (thread row) each step run is drawn on, so overlapping branches never share one.

The root and the steps that run one after another stay on their parent's lane;
each branch (see :func:`chainviz.trace.stats.branches`) and each child of a
nested parallel gets a lane of its own. Runs of the same node (retries) share it.
"""

from __future__ import annotations

from chainviz.trace.model import FANOUT_KINDS, Trace
from chainviz.trace.stats import branches

__all__ = ["Lanes", "assign_lanes"]


class Lanes:
    """``lane_of[run_id]`` → lane number (0 is the root's); ``names[lane]`` → its node id."""

    __slots__ = ("lane_of", "names")

    def __init__(self) -> None:
        self.lane_of: dict[int, int] = {}
        self.names: dict[int, str] = {}


def assign_lanes(trace: Trace) -> Lanes:
    lanes = Lanes()
    own_lane = set(branches(trace))
    by_node: dict[str, int] = {}
    for run in trace.runs:  # start order: parents come before their children
        parent = trace.parent(run)
        if parent is None:
            lane = 0
            lanes.names.setdefault(0, run.node_id)
        elif run.node_id in own_lane or parent.kind in FANOUT_KINDS:
            lane = by_node.get(run.node_id, -1)
            if lane < 0:
                lane = by_node[run.node_id] = len(lanes.names)
                lanes.names[lane] = run.node_id
        else:
            lane = lanes.lane_of[parent.run_id]
        lanes.lane_of[run.run_id] = lane
    return lanes

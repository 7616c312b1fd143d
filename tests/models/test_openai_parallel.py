"""Parallel branches that call the model run at the same time, sync and async."""

from __future__ import annotations

import pytest
from fakes.openai_server import FakeOpenAIServer
from openai_support import MODES, clear_openai_env, run

from chainviz import RunnableParallel
from chainviz.core.events import EndEvent, RunEvent, StartEvent
from chainviz.models import ChatOpenAI


@pytest.fixture(autouse=True)
def _no_openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_openai_env(monkeypatch)


def intervals(events: list[RunEvent]) -> dict[str, tuple[int, int]]:
    """(start, end) in ns of each model step, by node id."""
    starts = {e.node_id: e.time_ns for e in events if isinstance(e, StartEvent)}
    ends = {e.node_id: e.time_ns for e in events if isinstance(e, EndEvent)}
    return {node: (starts[node], ends[node]) for node in ends if node.endswith("model")}


@MODES
@pytest.mark.parametrize("streaming", [True, False])
def test_branches_overlap(mode: str, streaming: bool) -> None:
    with FakeOpenAIServer(latency=0.3) as server:
        model = ChatOpenAI(base_url=server.base_url, api_key="k", streaming=streaming)
        chain = RunnableParallel(
            joke=RunnableParallel(model=model), poem=RunnableParallel(model=model)
        )
        events: list[RunEvent] = []
        out = run(mode, chain, "bears", config={"callbacks": [events.append]})
        assert server.max_in_flight == 2
    assert out["joke"]["model"].content == out["poem"]["model"].content == "echo: bears"
    spans = intervals(events)
    assert set(spans) == {"joke/model", "poem/model"}
    (a_start, a_end), (b_start, b_end) = spans.values()
    assert a_start < b_end and b_start < a_end  # the intervals overlap
    overlap = min(a_end, b_end) - max(a_start, b_start)
    assert overlap >= 0.2e9  # most of each 0.3 s call

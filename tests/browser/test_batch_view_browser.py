"""The batch view in JupyterLab, in Chromium: counters move while the cell still runs.

A batch of simulated model calls (some items fail, with markup in their error) runs
under ``view.run()``; the page is sampled while the cell's prompt reads ``[*]``. The
finished count, the progress bar and the throughput change from sample to sample, the
final state adds up, the errors show as text and run nothing. Screenshots go to
``$CHAINVIZ_SCREENSHOT_DIR`` (``batch-view-running.png``, ``batch-view-done.png`` and
``batch-view-dark.png``).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.harness import Lab
from tests.browser.lab_notebooks import marker

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAYLOAD = '<img src=x onerror="window.cvPwned=1">'

SETUP = f"""\
from chainviz import RunnableLambda
from chainviz.models import SimulatedChatModel
from chainviz.parsers import StrOutputParser
from chainviz.prompts import ChatPromptTemplate
from chainviz.widgets import BatchView

def check(item):
    if item["topic"].endswith("7"):
        raise ValueError({PAYLOAD!r} + " cannot take " + item["topic"])
    return item

model = SimulatedChatModel(latency_scale=0.2)
chain = RunnableLambda(check, name="check") | {{
    "joke": ChatPromptTemplate.from_template("tell me a joke about {{topic}}") | model
            | StrOutputParser(),
    "length": RunnableLambda(lambda item: len(item["topic"]), name="length"),
}}
topics = [f"topic {{i}}" for i in range(360)]
"""

PROBE = """() => {
  const root = window.__cv.root().querySelector('.cvb-root');
  if (!root) return null;
  const value = (key) => {
    const cell = root.querySelector(`.cvb-count[data-key="${key}"] .cvb-count-value`);
    return cell ? cell.textContent : null;
  };
  const done = root.querySelector('.cvb-seg-done');
  return {
    status: root.dataset.status,
    finished: Number(root.dataset.finished),
    done: value('done'), failed: value('failed'), inFlight: value('in_flight'),
    rate: value('rate_window'),
    bar: done ? done.getBoundingClientRect().width : 0,
    steps: root.querySelectorAll('.cvb-step').length,
  };
}"""


def probe(lab: Lab) -> dict[str, Any] | None:
    return lab.page.evaluate(PROBE)  # type: ignore[no-any-return]


def test_counters_move_while_the_cell_runs_and_the_final_state_adds_up(lab: Lab) -> None:
    lab.open_notebook([
        SETUP,
        "view = BatchView(chain, [{'topic': t} for t in topics],\n"
        "                 config={'max_concurrency': 24})\nview",
        f"{marker('start')}\nresults = view.run()\n{marker('end')}",
    ])
    lab.run_all()
    lab.wait_cell_done(1)
    lab.wait_selector(".cvb-root")
    shot_taken = False
    samples = []
    for sample in lab.iter_samples(2, lambda: probe(lab), interval=0.15):
        samples.append(sample)
        value = sample.value
        running_so_far = sum(1 for s in samples if s.running and s.value
                             and s.value["status"] == "running")
        if (not shot_taken and sample.running and value and value["status"] == "running"
                and running_so_far >= 3 and value["finished"] > 60):
            lab.screenshot("batch-view-running", ".cv-batchview")
            shot_taken = True
    running = [s.value for s in samples
               if s.running and s.value and s.value["status"] == "running"]
    assert len(running) >= 3, samples
    finished = [v["finished"] for v in running]
    assert len(set(finished)) >= 3 and finished == sorted(finished), finished
    bars = [v["bar"] for v in running]
    assert len({round(b) for b in bars}) >= 3 and bars == sorted(bars), bars
    in_flight = [int(v["inFlight"]) for v in running if v["inFlight"] not in (None, "–")]
    assert any(in_flight) and max(in_flight) <= 24, running  # max_concurrency
    assert any(v["rate"] not in (None, "–") for v in running), running

    markers = lab.markers(2)
    assert markers["end"] > markers["start"]
    lab.wait_selector('.cvb-root[data-status="done"]')
    final = probe(lab)
    assert final is not None and final["finished"] == 360
    assert (final["done"], final["failed"]) == ("324", "36")
    assert final["steps"] >= 5  # whole chain, check, the parallel, its branches, …
    errors = lab.locator(".cvb-errors").first.inner_text()
    assert "ValueError ×36" in errors and PAYLOAD in errors
    assert lab.page.evaluate("() => window.cvPwned === undefined")
    assert lab.locator(".cvb-root img").count() == 0
    out = lab.execute(
        "print(len(results), view.summary.done, view.summary.failed, "
        "type(results[7]).__name__, results[0]['length'])"
    )
    assert out.split() == ["360", "324", "36", "ValueError", "7"]
    assert not lab.external_requests
    assert lab.cell_error(2) is None
    lab.screenshot("batch-view-done", ".cv-batchview")
    assert shot_taken
    lab.dark_theme()
    lab.screenshot("batch-view-dark", ".cv-batchview")

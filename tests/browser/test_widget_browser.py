"""The live view in JupyterLab, in Chromium: what a person sees.

* bars grow while the cell still blocks in ``view.run``, and the two parallel bars
  overlap on the time axis; graph nodes change state; the summary appears;
* Run (from the form) and Stop: Stop cancels the long branch, the finished one keeps
  its output;
* keys, names, prompts, outputs and errors holding markup show as text and run nothing.

Screenshots go to ``$CHAINVIZ_SCREENSHOT_DIR``; the light one of a finished run is also
saved as ``docs/live-view.png`` for the README.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import REPO, Lab
from tests.browser.lab_notebooks import marker

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETUP = """\
import chainviz
from chainviz import RunnableParallel
from chainviz.prompts import ChatPromptTemplate
from chainviz.models import SimulatedChatModel
model = SimulatedChatModel(latency_scale=2.0)
joke = ChatPromptTemplate.from_template("tell me a joke about {topic}") | model
poem = ChatPromptTemplate.from_template("write a 2-line poem about {topic}") | model
chain = RunnableParallel(joke=joke, poem=poem)
"""

# One evaluation per sample: both bars' boxes, their time labels, the graph's states.
PROBE = """() => {
  const root = window.__cv.root().querySelector('.cv-root');
  if (!root) return null;
  const box = (sel) => {
    const el = root.querySelector(sel);
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return {left: r.left, right: r.right, width: r.width};
  };
  const states = {};
  for (const g of root.querySelectorAll('.cv-graph-svg [data-node-id]')) {
    const cls = [...g.classList].find((c) => c.startsWith('cv-live-'));
    states[g.getAttribute('data-node-id')] = cls ? cls.slice(8) : null;
  }
  return {
    status: root.dataset.status,
    joke: box('.cv-lane[data-lane-id="joke"] .cv-bar'),
    poem: box('.cv-lane[data-lane-id="poem"] .cv-bar'),
    time: (root.querySelector('.cv-lane[data-lane-id="joke"] .cv-bar-time') || {}).textContent,
    states,
    summary: root.querySelector('.cv-summary').textContent,
  };
}"""


def probe(lab: Lab) -> dict[str, Any] | None:
    return lab.page.evaluate(PROBE)  # type: ignore[no-any-return]


def test_bars_grow_while_the_cell_runs_and_parallel_bars_overlap(lab: Lab) -> None:
    lab.open_notebook([
        SETUP,
        "view = chainviz.show(chain)",
        f"{marker('start')}\nout = view.run({{'topic': 'bear'}})\n{marker('end')}",
    ])
    lab.run_all()
    lab.wait_cell_done(1)
    lab.wait_selector('.cv-root .cv-graph-svg [data-node-id="joke/1"]')
    samples = lab.sample_while_running(2, lambda: probe(lab), interval=0.1)
    running = [s.value for s in samples if s.running and s.value and s.value["status"] == "running"]
    assert len(running) >= 3, samples

    # The joke bar grew while the cell blocked: several distinct widths (the axis may
    # rescale as the run gets longer, so pixels need not only grow), and its elapsed-time
    # label only went up.
    widths = [v["joke"]["width"] for v in running if v["joke"]]
    assert len(set(round(w) for w in widths)) >= 3, widths
    times = [_seconds(v["time"]) for v in running if v["time"]]
    assert len(set(times)) >= 3 and times == sorted(times), times
    # Both parallel bars were on the axis at once, side by side in time.
    both = [v for v in running if v["joke"] and v["poem"] and v["joke"]["width"] > 2
            and v["poem"]["width"] > 2]
    assert both, running
    overlap = [v for v in both if v["joke"]["left"] < v["poem"]["right"]
               and v["poem"]["left"] < v["joke"]["right"]]
    assert overlap, both
    # Graph nodes showed the models running, live.
    assert any(v["states"].get("joke/1") == "running" for v in running)

    lab.wait_cell_done(2)
    markers = lab.markers(2)
    assert markers["end"] > markers["start"]
    lab.wait_selector('.cv-root[data-status="done"]')
    done = probe(lab)
    assert done is not None
    assert set(done["states"].values()) == {"done"}
    assert "speedup" in done["summary"] and "wall time" in done["summary"]
    assert lab.locator(".cv-graph-svg .cv-crit").count() >= 2  # the critical path
    assert lab.locator('.cv-card[data-lane-id="joke"] .cv-card-text').inner_text().strip()
    assert lab.cell_error(2) is None
    assert not lab.external_requests  # nothing loaded from a CDN
    finished = lab.screenshot("live-view-done", ".cv-chainview")
    save_readme_picture(finished)

    lab.dark_theme()
    colour = lab.sample_style(".cv-root", "color")
    assert colour is not None and _brightness(colour) > 128  # light text on the dark theme
    lab.screenshot("live-view-dark", ".cv-chainview")


def test_stop_cancels_the_long_branch_and_keeps_the_finished_ones(lab: Lab) -> None:
    lab.open_notebook([
        SETUP,
        "slow = ChatPromptTemplate.from_template('an essay on {topic}') | "
        "SimulatedChatModel(latency_scale=40)\n"
        "quick = ChatPromptTemplate.from_template('a haiku on {topic}') | "
        "SimulatedChatModel(latency_scale=0.3)\n"
        "view = chainviz.show(RunnableParallel(slow=slow, quick=quick))",
    ])
    lab.run_all()
    lab.wait_cell_done(1)
    field = lab.wait_selector(".cv-field input", state="visible")
    field.fill("rivers")
    lab.wait_selector("button.cv-run", state="visible").click()
    lab.wait_selector('.cv-card[data-lane-id="quick"].cv-s-done', timeout=30)
    lab.wait_selector('.cv-card[data-lane-id="slow"].cv-s-running')
    lab.screenshot("live-view-before-stop", ".cv-chainview")
    lab.locator("button.cv-stop").first.click()
    lab.wait_selector('.cv-root[data-status="cancelled"]', timeout=15)
    assert lab.locator('.cv-card[data-lane-id="slow"].cv-s-cancelled').count() == 1
    assert lab.locator('.cv-lane[data-lane-id="slow"].cv-s-cancelled').count() == 1
    quick_text = lab.locator('.cv-card[data-lane-id="quick"] .cv-card-text').inner_text()
    assert quick_text.strip()
    assert "stopped" in lab.locator(".cv-summary").inner_text()
    out = lab.execute(
        "print(view.trace.status, view.trace.node('quick').status, view.trace.input if "
        "hasattr(view.trace, 'input') else '', view.trace.root.input)"
    )
    assert out.split()[:2] == ["cancelled", "done"] and "rivers" in out
    lab.screenshot("live-view-stopped", ".cv-chainview")


PAYLOAD = '<img src=x onerror="window.cvPwned=1"><script>window.cvPwned=2</script>'

INJECTION = f"""\
import chainviz
from chainviz import RunnableLambda, RunnableParallel
from chainviz.prompts import ChatPromptTemplate
payload = {PAYLOAD!r}
def fail(x):
    raise ValueError(payload)
chain = RunnableParallel({{
    payload: RunnableLambda(lambda x: payload, name=payload),
    "prompt": ChatPromptTemplate.from_template(payload + " about {{topic}}"),
    "broken": RunnableLambda(fail, name="fails " + payload),
}})
view = chainviz.show(chain)
try:
    view.run({{"topic": payload}})
except ValueError:
    print("failed as planned")
"""


def test_markup_in_keys_names_prompts_outputs_and_errors_runs_nothing(lab: Lab) -> None:
    lab.open_notebook([INJECTION])
    lab.run_all()
    lab.wait_cell_done(0)
    lab.wait_selector('.cv-root[data-status="error"]')
    lab.settle(4)
    pwned = lab.page.evaluate("() => window.cvPwned === undefined ? null : window.cvPwned")
    assert pwned is None
    root = lab.locator(".cv-root").first
    assert root.locator("img").count() == 0 and root.locator("script").count() == 0
    text = root.inner_text()
    assert PAYLOAD in text  # the key, the output and the error, shown as characters
    assert "ValueError: " + PAYLOAD in text
    assert lab.locator(".cv-field").count() == 1  # the form's one variable: topic
    lab.screenshot("live-view-injection", ".cv-chainview")


def save_readme_picture(png: Path) -> None:
    """With ``CHAINVIZ_UPDATE_DOCS=1``, keep the light screenshot of a finished run as the
    README's picture (tests do not rewrite tracked files otherwise)."""
    assert png.stat().st_size <= 150_000, f"{png} is too big for the README"
    target = REPO / "docs" / "live-view.png"
    if os.environ.get("CHAINVIZ_UPDATE_DOCS") == "1":
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(png, target)


def _brightness(css_colour: str) -> float:
    numbers = [float(x) for x in css_colour[css_colour.index("(") + 1:-1].split(",")[:3]]
    return sum(numbers) / 3


def _seconds(label: str) -> float:
    number, unit = label.split()
    return float(number) / (1000 if unit == "ms" else 1)

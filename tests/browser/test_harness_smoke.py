"""The browser harness itself, on plain ipywidgets and anywidget (no chainviz widgets).

Each browser test proves one thing a chainviz widget relies on: updates sent from a
worker thread show while the cell still blocks; an anywidget's ESM loads offline
and a click reaches Python and back; typing into a Textarea reaches a Python
observer. The first tests check the skip logic and the notebook builder without a
browser.
"""

from __future__ import annotations

import pytest

from tests.browser import harness
from tests.browser.harness import BrowserTestError, Lab
from tests.browser.lab_notebooks import build_notebook, markdown, marker, parse_markers

# ------------------------------------------------------------------ without a browser


def test_missing_stack_skips_with_install_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "find_chromium", lambda: None)
    monkeypatch.delenv("CHAINVIZ_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        harness.require_browser_stack()
    reason = str(skipped.value)
    assert "apt-get install chromium" in reason
    assert "pip install 'chainviz[test]'" in reason


def test_missing_stack_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "find_chromium", lambda: None)
    monkeypatch.setenv("CHAINVIZ_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium"):
        harness.require_browser_stack()


def test_missing_python_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAINVIZ_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="`no_such_package_cv`"):
        harness.require_browser_stack("no_such_package_cv")


def test_notebook_builder_and_markers() -> None:
    nb = build_notebook([markdown("# Title"), "x = 1", marker("done")])
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code"]
    assert nb.metadata["kernelspec"]["name"] == "python3"
    with pytest.raises(TypeError):
        build_notebook("x = 1")  # type: ignore[arg-type]
    text = "noise\nCVMARK start 100.5\nCVMARK end 101.25\nCVMARK end 102\n"
    assert parse_markers(text) == {"start": 100.5, "end": 102.0}
    with pytest.raises(ValueError, match="one word"):
        marker("two words")


# ------------------------------------------------------------------------ in a browser

SLIDER_CELL = """\
import importlib.util
import ipywidgets as widgets

slider = widgets.IntSlider(value=0, min=0, max=5, description="ticks")
slider.add_class("cv-smoke-slider")
label = widgets.Label("tick 0")
label.add_class("cv-smoke-label")
display(widgets.VBox([slider, label]))
print("chainviz found at", importlib.util.find_spec("chainviz").origin)
"""

# The main thread blocks in a sleep loop, as a cell calling a blocking invoke() would;
# a worker thread changes the widgets. The last sleep keeps the prompt at [*] long
# enough for the final update to be seen while the cell is still running.
TICK_CELL = "\n".join(
    [
        "import threading, time",
        "",
        "def tick():",
        "    for i in range(1, 6):",
        "        time.sleep(0.3)",
        "        label.value = f'tick {i}'",
        "        slider.value = i",
        "",
        marker("start"),
        "worker = threading.Thread(target=tick)",
        "worker.start()",
        "while worker.is_alive():",
        "    time.sleep(0.05)",
        marker("updates_done"),
        "time.sleep(2.0)",
        marker("end"),
    ]
)


@pytest.mark.browser
def test_thread_updates_show_while_the_cell_blocks(lab: Lab) -> None:
    lab.open_notebook([SLIDER_CELL, TICK_CELL])
    label_changes = lab.record_mutations(".cv-smoke-label")
    lab.run_all()
    lab.wait_cell_done(0)
    assert f"chainviz found at {harness.REPO}" in lab.cell_output_text(0)
    # Sample from the start; once two values were seen under [*], take the picture.
    samples, running_shot = [], None
    for sample in lab.iter_samples(1, lambda: lab.sample_text(".cv-smoke-label")):
        samples.append(sample)
        seen_running = {s.value for s in samples if s.running}
        if running_shot is None and sample.running and len(seen_running) >= 2:
            running_shot = lab.screenshot("harness-smoke-label-while-running")
    assert len(seen_running) >= 2, f"the label did not change while [*]: {samples}"
    assert running_shot is not None
    assert samples[-1].value == "tick 5" and not samples[-1].running

    marks = lab.markers(1)
    ticks = [e for e in label_changes.stop() if e.value and e.value.startswith("tick ")]
    assert [e.value for e in ticks][-5:] == [f"tick {i}" for i in range(1, 6)]
    assert all(marks["start"] < e.t < marks["end"] for e in ticks[-5:]), (marks, ticks)
    assert lab.sample_text(".cv-smoke-slider .widget-readout") == "5"
    lab.screenshot("harness-smoke-label-done")


COUNTER_CELL = '''\
import anywidget
import traitlets

class Counter(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
      const button = document.createElement("button");
      button.className = "cv-smoke-counter";
      const show = () => { button.textContent = `clicked ${model.get("count")} times`; };
      button.addEventListener("click", () => {
        model.set("count", model.get("count") + 1);
        model.save_changes();
      });
      model.on("change:count", show);
      show();
      el.appendChild(button);
    }
    export default { render };
    """
    _css = ".cv-smoke-counter { font-size: 16px; padding: 6px 14px; }"
    count = traitlets.Int(0).tag(sync=True)

counter = Counter()
seen = []
counter.observe(lambda change: seen.append(change["new"]), names="count")
counter
'''


@pytest.mark.browser
def test_anywidget_click_round_trip_offline(lab: Lab) -> None:
    lab.open_notebook([COUNTER_CELL])
    lab.run_all()
    lab.wait_cell_done(0)
    button = lab.wait_selector(".cv-smoke-counter", state="visible")
    for _ in range(3):
        button.click()
    lab.wait_text("clicked 3 times", index=0)
    lab.wait_until(
        "the Python observer to see three clicks",
        lambda: lab.execute("print(seen)").strip() == "[1, 2, 3]",
    )

    lab.execute("counter.count = 10")
    lab.wait_text("clicked 10 times", index=0)
    assert lab.execute("print(seen)").strip() == "[1, 2, 3, 10]"
    assert any("/lab/extensions/anywidget/" in url for url in lab.requests)
    assert lab.external_requests == []
    lab.screenshot("harness-smoke-anywidget")

    lab.dark_theme()
    lab.screenshot("harness-smoke-anywidget-dark")


TEXTAREA_CELL = """\
import ipywidgets as widgets

area = widgets.Textarea(placeholder="Type a prompt", layout=widgets.Layout(width="420px"))
area.add_class("cv-smoke-textarea")
echo = widgets.Label("kernel saw nothing yet")
echo.add_class("cv-smoke-echo")
edits = []

def on_edit(change):
    edits.append(change["new"])
    echo.value = f"kernel saw {len(change['new'])} characters"

area.observe(on_edit, names="value")
display(widgets.VBox([area, echo]))
"""

PROMPT_TEXT = "Tell me a joke about {topic}"


@pytest.mark.browser
def test_textarea_fill_reaches_a_python_observer(lab: Lab) -> None:
    lab.open_notebook([TEXTAREA_CELL])
    lab.run_all()
    lab.wait_cell_done(0)
    lab.wait_selector(".cv-smoke-textarea textarea", state="visible").fill(PROMPT_TEXT)
    lab.wait_text(f"kernel saw {len(PROMPT_TEXT)} characters", index=0)
    assert lab.execute("print(edits[-1])").strip() == PROMPT_TEXT
    lab.screenshot("harness-smoke-textarea")


@pytest.mark.browser
def test_errors_single_cells_and_kernel_queries(lab: Lab) -> None:
    lab.open_notebook(["x = 20", "1 / 0", markdown("Appended cells go below.")])
    lab.run_all()
    with pytest.raises(BrowserTestError, match="ZeroDivisionError"):
        lab.wait_all_done()
    assert lab.cell_error(0) is None
    assert "ZeroDivisionError" in (lab.cell_error(1) or "")

    index = lab.append_cell(f"print(x + 1)\n{marker('appended')}")
    assert index == 3
    lab.run_cell(index)
    count = lab.wait_cell_done(index)
    assert count >= 3
    assert lab.cell_output_text(index).startswith("21")
    assert lab.markers(index)["appended"] <= lab.now() + 1
    assert lab.execute("print(x * 2)") == "40\n"
    with pytest.raises(BrowserTestError, match="NameError"):
        lab.execute("undefined_name")

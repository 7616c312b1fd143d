"""The prompt lab in JupyterLab, in Chromium: what a person does and sees.

* the lab is folded under the live view until opened; typing into a prompt's text
  area (keys that are notebook shortcuts included: a, b, dd, m, y) edits the prompt
  and nothing else; a broken template is flagged as it is typed and Run refuses it;
  saved as an alternative, the edit is what the next Run uses; comparing the two runs
  shows both versions with a word diff;
* markup in a prompt, an alternative's name, an input and an output shows as text and
  runs nothing (no ``$…$`` typeset either).

Screenshots go to ``$CHAINVIZ_SCREENSHOT_DIR`` (default ``ci-artifacts/screenshots``).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.harness import Lab

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETUP = """\
from chainviz import RunnableParallel
from chainviz.models import SimulatedChatModel
from chainviz.parsers import StrOutputParser
from chainviz.prompts import ChatPromptTemplate
from chainviz.widgets import ChainView
model = SimulatedChatModel(latency_scale=0.3)
chain = RunnableParallel(
    joke=ChatPromptTemplate.from_template("tell me a joke about {topic}") | model
    | StrOutputParser(),
    poem=ChatPromptTemplate.from_template("write a 2-line poem about {topic}") | model
    | StrOutputParser(),
)
view = ChainView(chain)
view
"""

# Every key here is also a notebook shortcut in command mode: a/b insert a cell,
# dd deletes one, m makes it markdown, y code.
EDIT = "write a 2-line poem about {topic}, by a muddy bay"
JOKE = ".cv-prompt-0"

NOTEBOOK_SHAPE = """() => {
  const nb = window.__cv.nb();
  return {cells: nb.widgets.map((w) => w.model.type), source: nb.widgets.map(
    (w) => w.model.sharedModel.getSource())};
}"""


def tall(lab: Lab) -> None:
    """Room for the whole view in one screenshot (this tab only)."""
    lab.page.set_viewport_size({"width": 1280, "height": 2000})


def run_and_wait(lab: Lab, number: int) -> None:
    lab.locator("button.cv-run").first.click()
    lab.wait_selector(f'.cv-root[data-run="{number}"][data-status="done"]', timeout=60)


def card_text(lab: Lab, lane: str) -> str:
    return lab.locator(f'.cv-card[data-lane-id="{lane}"] .cv-card-text').first.inner_text()


def options(select: Any) -> list[str]:
    """A select's option texts (ipywidgets shows spaces in them as no-break spaces)."""
    return [o.replace("\xa0", " ") for o in select.locator("option").all_text_contents()]


def type_into(lab: Lab, selector: str, text: str) -> None:
    """Clear the text area, then type ``text`` key by key into it, as a person would."""
    area = lab.wait_selector(selector, state="visible")
    area.fill("")
    area.press_sequentially(text, delay=15)  # focuses it first; every key is a key event
    assert area.input_value() == text


def test_an_edited_prompt_runs_next_and_the_comparison_shows_both_versions(lab: Lab) -> None:
    tall(lab)
    lab.open_notebook([SETUP])
    lab.run_all()
    lab.wait_cell_done(0)
    fold = lab.wait_selector(".cv-promptlab-fold", state="visible")
    assert lab.locator(f"{JOKE} textarea").first.is_hidden()  # folded at first
    fold.get_by_text("Prompt lab · 2 prompts").click()
    lab.wait_selector(f"{JOKE} textarea", state="visible")
    lab.wait_selector(".cv-field input", state="visible").fill("bears")
    run_and_wait(lab, 1)
    first_joke = card_text(lab, "joke")
    assert first_joke.strip()
    shape = lab.page.evaluate(NOTEBOOK_SHAPE)

    # A broken template is flagged while typing, and Run does not start.
    type_into(lab, f"{JOKE} textarea", "tell me a joke about {topic")
    lab.wait_text("never closed")
    status = lab.locator(f"{JOKE} .cv-prompt-status").first.inner_text()
    assert "✗" in status and "position 21" in status, status
    lab.locator("button.cv-run").first.click()
    lab.wait_text("Not run: Prompt 'joke/0'")
    assert lab.sample_attribute(".cv-root", "data-run") == "1"
    lab.screenshot("prompt-lab-flagged", ".cv-promptlab")

    # The edit, typed key by key: the notebook does not hear the keys.
    type_into(lab, f"{JOKE} textarea", EDIT)
    lab.wait_until("the kernel to see the typed text", lambda: lab.execute(
        "print(view.prompts['joke/0']['alternatives'].get('draft'))").strip() == EDIT)
    assert lab.page.evaluate(NOTEBOOK_SHAPE) == shape  # no cell added, deleted or retyped
    lab.wait_until("the check to pass", lambda: "✓" in lab.locator(
        f"{JOKE} .cv-prompt-status").first.inner_text())

    # Saved as an alternative, chosen, and run.
    name = lab.locator(f"{JOKE} .cv-prompt-name input").first
    name.press_sequentially("muddy poem", delay=15)  # "dd", "m", "y" again
    assert lab.page.evaluate(NOTEBOOK_SHAPE) == shape
    lab.locator(f"{JOKE} button.cv-prompt-save").first.click()
    lab.wait_text("Saved 'muddy poem'")
    version = lab.locator(f"{JOKE} .cv-prompt-version select").first
    assert version.input_value() == "muddy poem"
    assert options(version) == ["original", "muddy poem"]
    lab.screenshot("prompt-lab-saved", ".cv-chainview")
    run_and_wait(lab, 2)
    used = lab.execute(
        "t = view.history[-1]\n"
        "print(t.node('joke/0').output.to_string())\n"
        "print('---')\n"
        "print(t.node('joke').output)"
    )
    prompt_used, output = used.split("---\n")
    assert prompt_used.strip() == f"Human: {EDIT.replace('{topic}', 'bears')}"
    second_joke = card_text(lab, "joke")
    assert second_joke.strip() == output.strip() and second_joke != first_joke
    assert len(second_joke.strip().splitlines()) == 2  # a 2-line poem, as the edit asks

    # Compare the two runs: both versions, the second as a word diff of the first.
    runs = lab.locator(".cv-compare-runs select").first
    assert len(runs.locator("option").all_inner_texts()) == 2
    lab.locator("button.cv-compare-button").first.click()
    table = lab.wait_selector(".cv-comparison .cv-compare-table", state="visible")
    text = table.inner_text()
    assert "run 1" in text and "run 2" in text
    assert "tell me a joke about {topic}" in text  # the first version, whole
    assert "muddy poem" in text and "original" in text
    inserted = " ".join(table.locator("ins.cv-ins").all_inner_texts())
    deleted = " ".join(table.locator("del.cv-del").all_inner_texts())
    assert "2-line poem" in inserted and "muddy bay" in inserted, inserted
    assert "joke" in deleted, deleted
    assert first_joke.strip()[:20] in text and second_joke.strip()[:20] in text
    assert "latency · joke" in text and "tokens" in text
    assert lab.cell_error(0) is None
    assert not lab.external_requests
    lab.screenshot("prompt-lab-compare", ".cv-promptlab")
    lab.screenshot("prompt-lab-page")

    lab.dark_theme()
    lab.screenshot("prompt-lab-compare-dark", ".cv-promptlab")


PAYLOAD = '<img src=x onerror="window.cvPwned=1"><script>window.cvPwned=2</script> $x^2$'

HOSTILE = f"""\
from chainviz import RunnableLambda
from chainviz.prompts import ChatPromptTemplate
from chainviz.widgets import ChainView
payload = {PAYLOAD!r}
chain = ChatPromptTemplate.from_template(payload + " about {{topic}}") | RunnableLambda(
    lambda p: p.to_string() + " " + payload, name="echo")
view = ChainView(chain, prompts={{"0": {{"current": payload[:30], "alternatives": {{
    payload[:30]: "{{topic}} and " + payload}}}}}})
view
"""

COMPARE = """\
comparison = view.compare_alternatives({"topic": payload})
print(len(comparison.columns))
"""


def test_hostile_text_in_prompts_names_inputs_and_outputs_is_shown_not_run(lab: Lab) -> None:
    tall(lab)
    lab.open_notebook([HOSTILE, COMPARE])
    lab.run_all()
    lab.wait_cell_done(1)
    lab.wait_selector(".cv-comparison .cv-compare-table", state="visible")
    type_into(lab, f"{JOKE} textarea", PAYLOAD + " {topic")  # broken: the check quotes it
    lab.wait_text("never closed")
    lab.settle(4)
    assert lab.page.evaluate("() => window.cvPwned === undefined ? null : window.cvPwned") is None
    lab_box = lab.locator(".cv-promptlab").first
    assert lab_box.locator("img").count() == 0 and lab_box.locator("script").count() == 0
    assert lab_box.locator("mjx-container, .MathJax").count() == 0  # $x^2$ stays text
    table_text = lab.locator(".cv-comparison").first.inner_text()
    assert PAYLOAD in table_text  # the template, the input and the output, as characters
    assert PAYLOAD[:30] in options(lab.locator(f"{JOKE} .cv-prompt-version select").first)
    status = lab.locator(f"{JOKE} .cv-prompt-status").first.inner_text()
    assert "<img src=x" in status and "never closed" in status
    assert lab.locator(f"{JOKE} textarea").first.input_value() == PAYLOAD + " {topic"
    lab.screenshot("prompt-lab-hostile", ".cv-promptlab")

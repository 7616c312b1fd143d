"""The static picture a saved notebook keeps, the input form, and what is escaped."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

from widget_fakes import Recorder
from widget_steps import Sleep

from chainviz import InputSchema, RunnableLambda, RunnableParallel
from chainviz.prompts import ChatPromptTemplate
from chainviz.widgets import ChainView
from chainviz.widgets.form import InputForm, fields_of, input_from

SVG = "{http://www.w3.org/2000/svg}"
PAYLOADS = ("<script>window.cvPwned=1</script>", "<img src=x onerror=window.cvPwned=2>")


def element_names(svg: str) -> set[str]:
    return {element.tag.replace(SVG, "") for element in ET.fromstring(svg).iter()}


def test_the_picture_holds_the_graph_the_bars_and_the_summary(recorded: Recorder) -> None:
    view = ChainView(RunnableParallel(joke=Sleep(0.03, "ha"), poem=Sleep(0.01, "verse")))
    before = view._repr_mimebundle_()
    assert "not run yet" in before["text/plain"]
    assert before["application/vnd.jupyter.widget-view+json"]["model_id"] == view.model_id
    view.run({})
    bundle = view._repr_mimebundle_()
    svg, text = bundle["image/svg+xml"], bundle["text/plain"]
    names = element_names(svg)
    assert {"svg", "rect", "text", "g"} <= names
    assert 'data-node-id="joke"' in svg  # the graph, drawn with the run on it
    assert "speedup" in svg and "sum of branches" in svg
    assert "✓ joke" in text and "✓ poem" in text and "speedup" in text
    assert "RunnableParallel" in text  # the graph's text picture


def test_user_text_in_keys_prompts_and_outputs_is_escaped(recorded: Recorder) -> None:
    evil_key, evil_output = PAYLOADS
    prompt = ChatPromptTemplate.from_template("say " + evil_output + " about {topic}")
    chain = RunnableParallel({evil_key: RunnableLambda(lambda x: evil_output), "p": prompt})
    view = ChainView(chain)
    view.run({"topic": evil_key})
    bundle = view._repr_mimebundle_()
    svg = bundle["image/svg+xml"]
    assert {"script", "img", "foreignObject"}.isdisjoint(element_names(svg))
    assert "<script>" not in svg and "<img" not in svg
    texts = "".join(ET.fromstring(svg).itertext())
    assert evil_key[:20] in texts  # shown, as text
    assert evil_key in bundle["text/plain"]
    lanes = view.snapshot["lanes"]
    assert lanes[0]["text"] == evil_output  # sent as data; the browser writes it as text


def test_the_form_follows_the_input_schema(recorded: Recorder) -> None:
    schema = InputSchema.of(["topic", "style"])
    assert [f.name for f in fields_of(schema)] == ["topic", "style"]
    assert input_from(schema, {"topic": "bear"}) == {"topic": "bear", "style": ""}
    assert input_from(InputSchema.any(), {"input": "q"}) == "q"
    form = InputForm(schema)
    form.fill({"topic": "bear", "style": 3, "other": "x"})
    assert form.value() == {"topic": "bear", "style": "3"}
    assert all(not t.description_allow_html for t in form.texts.values())
    view = ChainView(ChatPromptTemplate.from_template("tell me a joke about {topic}"))
    assert list(view.form.texts) == ["topic"]  # type: ignore[union-attr]


def test_import_chainviz_loads_no_widget_code_until_show_is_used() -> None:
    script = textwrap.dedent(
        """
        import sys
        import chainviz
        assert not any(m.startswith(("ipywidgets", "anywidget", "chainviz.widgets"))
                       for m in sys.modules), sorted(sys.modules)
        import chainviz.widgets.state, chainviz.widgets.throttle, chainviz.widgets.runner
        assert "ipywidgets" not in sys.modules  # the pure parts need no widget library
        show = chainviz.show
        from chainviz.widgets.chainview import show as real
        assert show is real
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"

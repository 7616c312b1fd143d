"""No export carries an API key: configs and models are never written, and key-like
strings in error messages (and outputs) are scrubbed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from trace_fakes import SENTINEL_KEY, FakeChatModel

from chainviz import RunnableLambda, RunnableParallel
from chainviz.trace import Recorder
from chainviz.trace.scrub import REDACTED, scrub


def _leaky(x: Any) -> Any:
    raise PermissionError(f"Incorrect API key provided: {SENTINEL_KEY}. Check your key.")


def _exports(tmp_path: Path, recorder: Recorder) -> dict[str, str]:
    trace = recorder.last
    trace.save(tmp_path / "trace.json")
    return {
        "save": (tmp_path / "trace.json").read_text(encoding="utf-8"),
        "chrome": json.dumps(trace.to_chrome_trace(), ensure_ascii=False),
        "otlp": json.dumps(trace.to_otlp_json(), ensure_ascii=False),
        "svg": trace.to_svg(),
        "text": trace.to_text(),
    }


def test_a_key_in_an_error_or_an_output_reaches_no_export(tmp_path: Path) -> None:
    recorder = Recorder()
    chain = RunnableParallel(
        model=RunnableLambda(lambda t: t) | FakeChatModel(api_key=SENTINEL_KEY),
        echo=RunnableLambda(lambda t: {"note": f"the key is {SENTINEL_KEY}"}),
        leak=RunnableLambda(_leaky),
    )
    config = {"callbacks": [recorder], "metadata": {"api_key": SENTINEL_KEY}}
    with pytest.raises(PermissionError):
        chain.invoke("topic", config)
    trace = recorder.last
    assert SENTINEL_KEY in str(trace.node("leak").error)  # in memory, nothing is hidden
    exports = _exports(tmp_path, recorder)
    for name in ("save", "chrome", "otlp", "svg", "text"):
        assert SENTINEL_KEY not in exports[name], name
        assert "SENTINEL" not in exports[name], name
    assert REDACTED in exports["otlp"] and REDACTED in exports["chrome"]
    saved = json.loads(exports["save"])
    leak = next(run for run in saved["runs"] if run["node_id"] == "leak")
    assert leak["error"] == {
        "type": "PermissionError",
        "message": f"Incorrect API key provided: {REDACTED}. Check your key.",
    }


def test_a_model_object_as_a_value_is_written_by_type_only(tmp_path: Path) -> None:
    recorder = Recorder()
    RunnableLambda(lambda _: FakeChatModel(api_key=SENTINEL_KEY)).invoke(
        None, {"callbacks": [recorder]}
    )
    assert SENTINEL_KEY not in _exports(tmp_path, recorder)["save"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key sk-abcdefghijklmnopqrstuvwx used", f"key {REDACTED} used"),
        ("sk-proj-AbC_123-xyzXYZ0123456789", REDACTED),
        ("sk-ant-api03-aaaaaaaaaaaaaaaaaaaa", REDACTED),
        ("Authorization: Bearer abcdefghijklmnop1234", f"Authorization: Bearer {REDACTED}"),
        ("header bearer abcdefghijklmnop1234", f"header bearer {REDACTED}"),
        ("api_key=hunter2hunter2 next", f"api_key={REDACTED} next"),
        ('{"password": "correct horse"}', f'{{"password": "{REDACTED}"}}'),
        ("OPENAI_API_KEY='abc def ghi'", f"OPENAI_API_KEY='{REDACTED}'"),
        ("AKIAABCDEFGHIJKLMNOP", REDACTED),
        ("AIza" + "x" * 35, REDACTED),
        ("ghp_" + "a" * 36, REDACTED),
        ("hf_" + "a" * 34, REDACTED),
        ("xoxb-1234567890-abcdef", REDACTED),
    ],
)
def test_scrub_blanks_key_shaped_text(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    ["a task-list", "risk-free", "sk-short", "keys and secrets are discussed here", "tokens: 42"],
)
def test_scrub_leaves_ordinary_text_alone(text: str) -> None:
    assert scrub(text) == text

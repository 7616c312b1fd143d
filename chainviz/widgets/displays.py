"""Displaying a view together with its static picture, and refreshing every place shown.

A view is displayed as a raw mimebundle (the widget plus an SVG/text picture of its
state), so a saved notebook keeps the last state where widgets cannot run. Each display
keeps its handle so the picture can be updated when a run ends.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PictureDisplays"]


class PictureDisplays:
    """Mixed into a view that has ``_mimebundle()``; call ``_init_displays()`` once."""

    _handles: list[Any]

    def _init_displays(self) -> None:
        self._handles = []

    def _mimebundle(self) -> dict[str, Any]:
        raise NotImplementedError

    def _display_with_picture(self) -> None:
        from IPython.display import display

        handle = display(  # type: ignore[no-untyped-call]
            self._mimebundle(), raw=True, display_id=True
        )
        if handle is not None:
            self._handles.append(handle)

    def _update_displays(self) -> None:
        if not self._handles:
            return
        bundle = self._mimebundle()
        for handle in self._handles:
            handle.update(bundle, raw=True)

"""The notebook views: ``chainviz.show(chain)``, :class:`ChainView` and :class:`BatchView`.

The views need ``ipywidgets`` and ``anywidget`` (``pip install 'chainviz[widgets]'``);
they are loaded on first use, so the pure parts (:mod:`~chainviz.widgets.state`,
:mod:`~chainviz.widgets.batch_state`, :mod:`~chainviz.widgets.throttle`,
:mod:`~chainviz.widgets.runner`) import without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chainviz.widgets.batchview import BatchView
    from chainviz.widgets.chainview import ChainView, LiveView, show

__all__ = ["BatchView", "ChainView", "LiveView", "show"]

_MODULES = {"BatchView": "batchview"}


def __getattr__(name: str) -> Any:
    if name in __all__:
        from chainviz.errors import require_extra

        require_extra("ipywidgets", extra="widgets", purpose="The notebook view")
        require_extra("anywidget", extra="widgets", purpose="The notebook view")
        import importlib

        module = importlib.import_module(f"chainviz.widgets.{_MODULES.get(name, 'chainview')}")
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'chainviz.widgets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

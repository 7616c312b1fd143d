"""chainviz: compose LLM chains with LangChain's idioms, and watch them run.

``import chainviz`` loads only the standard-library core. The views
(``chainviz.show``) and the timing helpers are loaded on first use.
"""

from __future__ import annotations

from typing import Any

from chainviz.core import (
    CancelEvent,
    CancelToken,
    ConfigurableField,
    EndEvent,
    ErrorEvent,
    InputSchema,
    RunEvent,
    Runnable,
    RunnableAssign,
    RunnableBinding,
    RunnableConfig,
    RunnableGenerator,
    RunnableLambda,
    RunnableMap,
    RunnableParallel,
    RunnablePassthrough,
    RunnableRetry,
    RunnableSequence,
    RunnableWithFallbacks,
    StartEvent,
    TokenEvent,
    coerce_to_runnable,
)

__version__ = "0.1.0"

__all__ = [
    "CancelEvent",
    "CancelToken",
    "ConfigurableField",
    "EndEvent",
    "ErrorEvent",
    "InputSchema",
    "RunEvent",
    "Runnable",
    "RunnableAssign",
    "RunnableBinding",
    "RunnableConfig",
    "RunnableGenerator",
    "RunnableLambda",
    "RunnableMap",
    "RunnableParallel",
    "RunnablePassthrough",
    "RunnableRetry",
    "RunnableSequence",
    "RunnableWithFallbacks",
    "StartEvent",
    "TokenEvent",
    "__version__",
    "atimeit",
    "coerce_to_runnable",
    "show",
    "timeit",
]

# Loaded on first use so that `import chainviz` stays standard-library only.
_LAZY = {
    "show": ("chainviz.widgets", "show"),
    "timeit": ("chainviz.trace.timing", "timeit"),
    "atimeit": ("chainviz.trace.timing", "atimeit"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module_name, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module_name), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'chainviz' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

"""What a model's output says about the call, read by duck typing.

A chat model's message may carry ``response_metadata`` (with ``model_name``) and
``usage_metadata`` (``input_tokens``, ``output_tokens``, ``total_tokens``), as
LangChain's ``AIMessage`` does. Nothing here imports the models layer: any
object with those attributes works.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["MODEL_KINDS", "model_usage"]

#: Step kinds that are calls to a language model.
MODEL_KINDS = frozenset({"model", "chat_model", "llm"})

_TOKEN_KEYS = ("input_tokens", "output_tokens", "total_tokens")


def model_usage(output: Any) -> dict[str, Any]:
    """``model_name`` and token counts found on ``output``; empty when there are none."""
    found: dict[str, Any] = {}
    metadata = getattr(output, "response_metadata", None)
    if isinstance(metadata, Mapping):
        name = metadata.get("model_name") or metadata.get("model")
        if isinstance(name, str) and name:
            found["model_name"] = name
    usage = getattr(output, "usage_metadata", None)
    if isinstance(usage, Mapping):
        for key in _TOKEN_KEYS:
            value = usage.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                found[key] = value
    return found

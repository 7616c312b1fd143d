"""Chat models: the shared base, the offline simulated model, and ChatOpenAI.

``import chainviz.models`` loads no third-party package: :class:`ChatOpenAI`
(which needs ``openai``) is imported on first use of the name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainviz.models.base import BaseChatModel
from chainviz.models.simulated import SimulatedChatModel

if TYPE_CHECKING:
    from chainviz.models.openai_chat import ChatOpenAI

__all__ = ["BaseChatModel", "ChatOpenAI", "SimulatedChatModel"]


def __getattr__(name: str) -> Any:
    if name == "ChatOpenAI":
        from chainviz.models.openai_chat import ChatOpenAI

        globals()[name] = ChatOpenAI
        return ChatOpenAI
    raise AttributeError(f"module 'chainviz.models' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

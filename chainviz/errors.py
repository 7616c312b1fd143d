"""Every exception chainviz raises, in one tree.

::

    Exception
    └── ChainvizError                 base of everything below; has ``node_id``
        ├── ConfigError               bad run config: unknown key, wrong type (ValueError)
        ├── CompositionError          cannot build a chain from what was given (TypeError)
        ├── TemplateError             a prompt template is malformed, found when built (ValueError)
        ├── StepInputError            a step got input it cannot use: missing variables,
        │                             wrong type (ValueError)
        ├── OutputParserError         a parser could not read a model's output (ValueError)
        ├── RunCancelled              the run was stopped: Stop, Interrupt, a failed sibling
        ├── StepTimeout               a step ran past its time limit (TimeoutError);
        │   └── OpenAITimeout         in chainviz.models.openai_errors: also the openai
        │                             client's APITimeoutError, so its handlers still match
        ├── ModelConfigurationError   a model cannot be reached as configured (no key, no URL)
        ├── RetrievalError            embeddings or a vector store got bad input (ValueError)
        ├── PicklingError             a chain cannot be shipped to another process
        ├── WorkerLost                a batch item's worker died or failed to return it
        ├── RemoteError               an error raised in another process that could not
        │                             be sent back as itself
        ├── RenderError               Graphviz could not turn a graph into SVG
        ├── RunBusy                   a view was asked to run while its last run goes on
        │                             (RuntimeError)
        └── MissingExtraError         an optional dependency is not installed (ImportError)

Failures raised *by user code or by a client library* inside a step are never
wrapped: the original exception propagates (so ``except ValueError`` and retry
filters still match) with a note (PEP 678) naming the node id where it was raised.
When the failure happened inside a parallel step, the outputs of the branches that
had finished are kept on the exception; read them with :func:`completed_outputs`.

Messages are sentences: they name the step (its node id), what was expected,
what was given, and how to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "ChainvizError",
    "CompositionError",
    "ConfigError",
    "MissingExtraError",
    "ModelConfigurationError",
    "OutputParserError",
    "PicklingError",
    "RemoteError",
    "RenderError",
    "RetrievalError",
    "RunBusy",
    "RunCancelled",
    "StepInputError",
    "StepTimeout",
    "TemplateError",
    "WorkerLost",
    "completed_outputs",
    "describe_node",
    "describe_step",
    "failed_node_id",
    "require_extra",
]

_COMPLETED_ATTR = "__chainviz_completed__"
_NODE_ATTR = "__chainviz_node_id__"


def describe_node(node_id: str | None) -> str:
    """How a message names a step: ``step 'joke/0'`` or ``the chain`` for the root."""
    if node_id is None:
        return "a step"
    if node_id == "":
        return "the chain (node id '')"
    return f"step '{node_id}'"


def describe_step(node_id: str | None, what: str) -> str:
    """How a message starts when it names a leaf step and what it is:
    ``Step 'joke/0' (ChatPromptTemplate)``, or just ``ChatPromptTemplate`` for a step
    run on its own (node id ``''``) or outside a run (``None``)."""
    if not node_id:
        return what
    return f"Step '{node_id}' ({what})"


class ChainvizError(Exception):
    """Base class of chainviz's own errors; ``node_id`` names the step, if known."""

    def __init__(self, message: str, *, node_id: str | None = None) -> None:
        super().__init__(message)
        self.node_id = node_id


class ConfigError(ChainvizError, ValueError):
    """A run config has an unknown key or a value of the wrong type."""


class CompositionError(ChainvizError, TypeError):
    """Something given to ``|``, a dict of branches or a wrapper is not a runnable."""


class TemplateError(ChainvizError, ValueError):
    """A prompt template is malformed (found when it is built, not when it runs)."""


class StepInputError(ChainvizError, ValueError):
    """A step received input it cannot use."""


class OutputParserError(ChainvizError, ValueError):
    """An output parser could not read the model's output."""


class RunCancelled(ChainvizError):
    """The run was cancelled before this step finished (Stop, Interrupt or a failed sibling)."""


class StepTimeout(ChainvizError, TimeoutError):
    """A step took longer than its time limit."""


class ModelConfigurationError(ChainvizError):
    """A model cannot be called as configured (for example: no API key and no base URL)."""


class RetrievalError(ChainvizError, ValueError):
    """Embeddings or a vector store were given input they cannot use."""


class PicklingError(ChainvizError):
    """A chain or an input cannot be pickled to run in another process."""


class WorkerLost(ChainvizError):
    """A batch item was lost with its worker (after any retries); its input is not lost."""


class RemoteError(ChainvizError):
    """An exception raised in another process that could not be pickled back; the message
    keeps its type and text."""


class RenderError(ChainvizError):
    """Graphviz (system ``dot`` or the WebAssembly build) could not render a graph."""


class RunBusy(ChainvizError, RuntimeError):
    """A view was asked to start a run while its previous run is still going."""


class MissingExtraError(ChainvizError, ImportError):
    """An optional dependency is missing; the message gives the exact ``pip install`` line."""


def require_extra(module: str, extra: str, *, purpose: str) -> Any:
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{purpose} needs the '{module.split('.')[0]}' package, which is not installed. "
            f"Install it with: pip install 'chainviz[{extra}]'"
        ) from exc


def note_failed_node(exc: BaseException, node_id: str, kind: str) -> None:
    """Add a PEP 678 note naming the innermost step an exception came from (once)."""
    if getattr(exc, _NODE_ATTR, None) is not None:
        return
    try:
        setattr(exc, _NODE_ATTR, node_id)
    except AttributeError:  # exceptions with __slots__ cannot carry it; the note still helps
        pass
    exc.add_note(f"chainviz: raised in {describe_node(node_id)} (kind: {kind})")


def failed_node_id(exc: BaseException) -> str | None:
    """The node id of the innermost step an exception was raised in, if chainviz saw it."""
    node: str | None = getattr(exc, _NODE_ATTR, None)
    return node


def record_completed(exc: BaseException, outputs: Mapping[str, Any]) -> None:
    """Keep finished branches' outputs (by node id) on an exception raised by a sibling."""
    if not outputs:
        return
    try:
        existing: dict[str, Any] = getattr(exc, _COMPLETED_ATTR, None) or {}
        setattr(exc, _COMPLETED_ATTR, {**existing, **outputs})
    except AttributeError:
        pass


def completed_outputs(exc: BaseException) -> dict[str, Any]:
    """Outputs of the parallel branches that finished before ``exc`` ended the run.

    Keys are node ids (``"joke"``, ``"0/context"``); values are the branch outputs.
    """
    return dict(getattr(exc, _COMPLETED_ATTR, None) or {})

"""Run configuration: a dict with a fixed set of known keys.

``callbacks`` are event sinks (callables, or objects with ``on_event``) and are
inherited by every child step; ``max_concurrency`` limits how many leaf steps of
one run execute at once; ``tags``, ``metadata`` and ``run_name`` label the run;
``configurable`` selects alternatives and fields made configurable. Any other key
is an error that lists the known ones (LangChain silently moves them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypedDict

from chainviz.errors import ConfigError

__all__ = ["KNOWN_KEYS", "RunnableConfig", "apply_bound_config", "merge_configs", "validate_config"]


class RunnableConfig(TypedDict, total=False):
    """The keys a run config may have."""

    callbacks: Sequence[Any]
    max_concurrency: int | None
    tags: Sequence[str]
    metadata: Mapping[str, Any]
    run_name: str
    configurable: Mapping[str, Any]


KNOWN_KEYS = ("callbacks", "max_concurrency", "tags", "metadata", "run_name", "configurable")


def validate_config(config: Mapping[str, Any] | None) -> RunnableConfig:
    """Check a config's keys and value types; return it as a :class:`RunnableConfig`."""
    if config is None:
        return {}
    # Every invoke passes here: a plain dict skips the (slow) abstract-class check, and
    # only the keys present are looked at.
    if type(config) is not dict and not isinstance(config, Mapping):
        raise ConfigError(
            f"A run config must be a dict, but a {type(config).__name__} was given. "
            f"Pass a dict with some of the keys {', '.join(KNOWN_KEYS)}."
        )
    for key in config:
        if key not in _KNOWN:
            unknown = [key for key in config if key not in _KNOWN]
            raise ConfigError(
                f"Unknown config key(s) {', '.join(repr(k) for k in unknown)}. "
                f"The known keys are: {', '.join(KNOWN_KEYS)}."
            )
        value = config[key]
        if value is not None:
            _CHECKS[key](value)
    return config  # type: ignore[return-value]


def _check_limit(limit: Any) -> None:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ConfigError(
            f"max_concurrency must be a positive int or None, but {limit!r} was given."
        )


def _check_callbacks(callbacks: Any) -> None:
    if not _is_sequence(callbacks):
        raise ConfigError(
            "callbacks must be a list of sinks (callables or objects with on_event), "
            f"but a {type(callbacks).__name__} was given. Wrap a single sink in a list."
        )


def _check_tags(tags: Any) -> None:
    if isinstance(tags, str) or not _is_sequence(tags):
        raise ConfigError(f"tags must be a list of strings, but {tags!r} was given.")


def _check_mapping(key: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a dict, but {type(value).__name__} was given.")

    return check


def _check_nothing(value: Any) -> None:
    pass


_KNOWN = frozenset(KNOWN_KEYS)
_CHECKS: dict[str, Callable[[Any], None]] = {
    "callbacks": _check_callbacks,
    "max_concurrency": _check_limit,
    "tags": _check_tags,
    "metadata": _check_mapping("metadata"),
    "run_name": _check_nothing,
    "configurable": _check_mapping("configurable"),
}


def _is_sequence(value: object) -> bool:
    return isinstance(value, (list, tuple))


def merge_configs(base: RunnableConfig, extra: RunnableConfig) -> RunnableConfig:
    """``extra`` over ``base``: tags and callbacks add up, metadata and configurable merge."""
    if not base:
        return extra
    if not extra:
        return base
    merged: dict[str, Any] = dict(base)
    for key, value in extra.items():
        if value is None:
            continue
        if key in ("tags", "callbacks"):
            merged[key] = [*base.get(key, ()), *value]  # type: ignore[misc]
        elif key in ("metadata", "configurable"):
            merged[key] = {**base.get(key, {}), **value}  # type: ignore[dict-item]
        else:
            merged[key] = value
    return merged  # type: ignore[return-value]


def apply_bound_config(bound: RunnableConfig, caller: RunnableConfig) -> RunnableConfig:
    """The config a bound step runs with: as in LangChain, the caller's values win over
    the bound ones (metadata and configurable key by key); tags and callbacks add up,
    the caller's first."""
    if not bound:
        return caller
    merged: dict[str, Any] = {**bound, **caller}
    for key in ("tags", "callbacks"):
        if key in bound or key in caller:
            merged[key] = [*caller.get(key, ()), *bound.get(key, ())]
    for key in ("metadata", "configurable"):
        if key in bound or key in caller:
            merged[key] = {**bound.get(key, {}), **caller.get(key, {})}  # type: ignore[dict-item]
    return merged  # type: ignore[return-value]

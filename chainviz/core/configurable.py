"""Choosing at run time, by ``config={"configurable": {...}}``: fields and alternatives.

``prompt.configurable_alternatives(ConfigurableField(id="prompt"), poem=poem_prompt)``
picks a runnable by key; ``model.configurable_fields(temperature=ConfigurableField(
id="temperature"))`` sets an attribute. Both keep the wrapped step's node id, which
is what prompt swapping in the views builds on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chainviz.core import execute as ex
from chainviz.core.base import Runnable
from chainviz.core.coerce import coerce_to_runnable
from chainviz.core.run import Step
from chainviz.core.wrappers import _Wrapper
from chainviz.errors import ConfigError

__all__ = ["ConfigurableAlternatives", "ConfigurableField", "ConfigurableFields"]


@dataclass(frozen=True)
class ConfigurableField:
    """A run-time setting: its ``id`` is the key in ``configurable``."""

    id: str
    name: str | None = None
    description: str | None = None


class ConfigurableFields(_Wrapper):
    """The inner runnable with some attributes settable per run."""

    def __init__(self, bound: Runnable[Any, Any], fields: Mapping[str, ConfigurableField]) -> None:
        super().__init__(bound)
        for attribute, field in fields.items():
            if not isinstance(field, ConfigurableField):
                raise ConfigError(
                    f"configurable_fields({attribute}=...) needs a ConfigurableField, "
                    f"but a {type(field).__name__} was given."
                )
            if not hasattr(bound, attribute):
                raise ConfigError(
                    f"{type(bound).__name__} has no field {attribute!r} to make configurable."
                )
        self.fields = dict(fields)

    def resolve(self, configurable: Mapping[str, Any]) -> Runnable[Any, Any]:
        changes = {
            attribute: configurable[field.id]
            for attribute, field in self.fields.items()
            if field.id in configurable
        }
        return self.bound.with_replaced(**changes) if changes else self.bound

    def _plan(self, input: Any, step: Step) -> ex.Plan:
        output = yield ex.Call(self.resolve(step.configurable), None, input)
        return output


class ConfigurableAlternatives(_Wrapper):
    """One of several runnables, chosen by ``configurable[which.id]`` (default: the first)."""

    def __init__(
        self,
        default: Runnable[Any, Any],
        which: ConfigurableField,
        *,
        default_key: str = "default",
        alternatives: Mapping[str, Any],
    ) -> None:
        super().__init__(default)
        if not isinstance(which, ConfigurableField):
            raise ConfigError(
                "configurable_alternatives needs a ConfigurableField as its first argument, "
                f"but a {type(which).__name__} was given."
            )
        if default_key in alternatives:
            raise ConfigError(
                f"The alternative key {default_key!r} is already the default's key; "
                "pick another default_key or rename the alternative."
            )
        self.which = which
        self.default_key = default_key
        self.alternatives = {
            k: coerce_to_runnable(v, where=f"alternative {k!r}") for k, v in alternatives.items()
        }

    @property
    def options(self) -> dict[str, Runnable[Any, Any]]:
        """Every choice by key, the default first."""
        return {self.default_key: self.bound, **self.alternatives}

    def with_alternative(self, key: str, runnable: Runnable[Any, Any]) -> ConfigurableAlternatives:
        """A copy with one alternative added or replaced (the default cannot be replaced)."""
        if key == self.default_key:
            raise ConfigError(f"{key!r} is the default's key; it cannot be replaced.")
        return ConfigurableAlternatives(
            self.bound,
            self.which,
            default_key=self.default_key,
            alternatives={**self.alternatives, key: runnable},
        )

    def resolve(self, configurable: Mapping[str, Any]) -> Runnable[Any, Any]:
        key = configurable.get(self.which.id, self.default_key)
        if key == self.default_key:
            return self.bound
        if key not in self.alternatives:
            raise ConfigError(
                f"configurable[{self.which.id!r}] is {key!r}, which is not an alternative; "
                f"choose one of: {', '.join(repr(k) for k in self.options)}."
            )
        return self.alternatives[key]

    def _plan(self, input: Any, step: Step) -> ex.Plan:
        output = yield ex.Call(self.resolve(step.configurable), None, input)
        return output

"""What every prompt shares: input checks, partial variables, schema, edited copies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chainviz.core.base import Runnable
from chainviz.core.run import Step
from chainviz.core.schema import InputSchema
from chainviz.errors import StepInputError, TemplateError, describe_step
from chainviz.messages import PromptValue

__all__ = ["BasePromptTemplate", "quote"]


def quote(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names) if names else "no keys"


def _given(keys: Sequence[str]) -> str:
    if not keys:
        return "the input dict is empty"
    return f"the input has the key{'s' if len(keys) > 1 else ''} {quote(keys)}"


class BasePromptTemplate(Runnable[Any, PromptValue]):
    """What both prompt kinds share: input checks, partials, schema, edited copies."""

    kind = "prompt"
    blocking = False

    partial_variables: dict[str, Any]

    @property
    def input_variables(self) -> list[str]:
        """The variables the input must provide (partial variables excluded)."""
        return [v for v in self._all_variables() if v not in self.partial_variables]

    def _all_variables(self) -> list[str]:
        raise NotImplementedError

    def _validate(self) -> None:
        """Re-check templates (after an edit); raise TemplateError."""

    def _format(self, values: Mapping[str, Any], step: Step | None) -> PromptValue:
        raise NotImplementedError

    # -------------------------------------------------------------- input checks

    def _where(self, step: Step | None) -> str:
        return describe_step(step.node_id if step else None, self.get_name())

    def _values(self, input: Any, step: Step | None) -> dict[str, Any]:
        needed = self.input_variables
        if isinstance(input, Mapping):
            given = dict(input)
        elif len(needed) == 1:
            given = {needed[0]: input}
        else:
            example = "{" + ", ".join(f"{v!r}: ..." for v in needed) + "}"
            accepts = "a dict (it has no variables)"
            if needed:
                accepts = f"a dict with the keys {quote(needed)}"
            raise StepInputError(
                f"{self._where(step)} accepts {accepts}, but got a {type(input).__name__} "
                f"({input!r:.60}). Pass a dict such as {example}, or put a dict of branches "
                "before the prompt.",
                node_id=step.node_id if step else None,
            )
        missing = [v for v in needed if v not in given]
        if missing:
            s = "s" if len(missing) > 1 else ""
            raise StepInputError(
                f"{self._where(step)} needs the variable{s} {quote(missing)}, but "
                f"{_given(list(given))}. Add {quote(missing)} to the input dict, or fill "
                f"{'them' if s else 'it'} in with prompt.partial(...).",
                node_id=step.node_id if step else None,
            )
        partials = {
            key: value() if callable(value) else value
            for key, value in self.partial_variables.items()
            if key not in given
        }
        return {**partials, **given}

    def _call(self, input: Any, step: Step) -> PromptValue:
        return self._format(self._values(input, step), step)

    # ------------------------------------------------------------------ public API

    def format_prompt(self, **kwargs: Any) -> PromptValue:
        """The prompt value for these variables (outside a chain)."""
        return self._format(self._values(kwargs, None), None)

    def partial(self, **kwargs: Any) -> BasePromptTemplate:
        """A copy with some variables filled in (values, or functions called at format time)."""
        unknown = [k for k in kwargs if k not in self._all_variables()]
        if unknown:
            raise TemplateError(
                f"{self.get_name()}.partial() got {quote(unknown)}, which the template does not "
                f"use; its variables are {quote(self._all_variables())}."
            )
        return Runnable.with_replaced(
            self, partial_variables={**self.partial_variables, **kwargs}
        )  # type: ignore[return-value]

    def with_replaced(self, **changes: Any) -> BasePromptTemplate:
        """An edited copy, checked: a malformed template raises here, not at run time."""
        clone: BasePromptTemplate = super().with_replaced(**changes)  # type: ignore[assignment]
        clone._validate()
        return clone

    def get_input_schema(self) -> InputSchema:
        variables = self.input_variables
        if len(variables) == 1:
            return InputSchema((variables[0],), True)
        return InputSchema.of(variables)

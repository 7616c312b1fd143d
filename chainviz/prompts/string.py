"""``PromptTemplate``: a template that makes one string."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chainviz.core.run import Step
from chainviz.errors import TemplateError
from chainviz.messages import StringPromptValue
from chainviz.prompts.base import BasePromptTemplate
from chainviz.prompts.template import parse_template, render, variables

__all__ = ["PromptTemplate"]


class PromptTemplate(BasePromptTemplate):
    """A string prompt: ``PromptTemplate.from_template("Tell me about {topic}")``."""

    def __init__(
        self,
        template: str,
        *,
        input_variables: Sequence[str] | None = None,
        partial_variables: Mapping[str, Any] | None = None,
        template_format: str = "f-string",
        name: str | None = None,
    ) -> None:
        if template_format != "f-string":
            raise TemplateError(
                f"template_format={template_format!r} is not supported; chainviz prompts use "
                "'f-string' templates ({name} slots)."
            )
        self.template = template
        self.partial_variables = dict(partial_variables or {})
        self.name = name
        self._validate()
        if input_variables is not None and set(input_variables) != set(self.input_variables):
            raise TemplateError(
                f"input_variables={list(input_variables)!r} does not match the template, "
                f"which uses {self.input_variables!r}. Leave input_variables out: it is inferred."
            )

    @classmethod
    def from_template(cls, template: str, **kwargs: Any) -> PromptTemplate:
        return cls(template, **kwargs)

    def _validate(self) -> None:
        parse_template(self.template)

    def _all_variables(self) -> list[str]:
        return variables(parse_template(self.template))

    def _format(self, values: Mapping[str, Any], step: Step | None) -> StringPromptValue:
        return StringPromptValue(render(parse_template(self.template), values))

    def format(self, **kwargs: Any) -> str:
        """The filled-in template text."""
        return self.format_prompt(**kwargs).to_string()

    def __repr__(self) -> str:
        return (
            f"PromptTemplate(input_variables={self.input_variables!r}, "
            f"template={self.template!r})"
        )

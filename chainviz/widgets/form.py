"""An input form made from a chain's input schema (``chain.get_input_schema()``).

A chain that declares its variables gets one text field per variable and is run
with ``{variable: text}``; a chain that takes any input (``schema.open``) gets one
field, and is run with its text. Field labels are plain text (ipywidgets shows a
``description`` as text unless told otherwise), so a variable named
``<img src=x onerror=…>`` shows as those characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets

from chainviz.core.schema import InputSchema

__all__ = ["Field", "InputForm", "fields_of", "input_from"]

#: The name of the single field of a chain that takes any input.
WHOLE_INPUT = "input"


@dataclass(frozen=True, slots=True)
class Field:
    """One text field: the variable it fills and the hint shown while it is empty."""

    name: str
    placeholder: str


def fields_of(schema: InputSchema) -> tuple[Field, ...]:
    """The fields a form for ``schema`` has (pure: no widgets)."""
    if schema.variables:
        return tuple(Field(v, f"value of {{{v}}}") for v in schema.variables)
    return (Field(WHOLE_INPUT, "the chain's input (text)"),)


def input_from(schema: InputSchema, values: Mapping[str, str]) -> Any:
    """The input a run gets from the fields' texts."""
    if schema.variables:
        return {name: values.get(name, "") for name in schema.variables}
    return values.get(WHOLE_INPUT, "")


class InputForm:
    """Text fields for a schema; :meth:`value` reads them, :meth:`fill` writes them."""

    def __init__(self, schema: InputSchema) -> None:
        self.schema = schema
        self.fields = fields_of(schema)
        self.texts: dict[str, Any] = {}
        for field in self.fields:
            text = widgets.Text(
                value="",
                placeholder=field.placeholder,
                description=field.name,
                description_allow_html=False,
                layout=widgets.Layout(width="auto", min_width="14em", flex="1 1 auto"),
                style={"description_width": "initial"},
            )
            text.add_class("cv-field")
            self.texts[field.name] = text
        self.widget = widgets.HBox(
            list(self.texts.values()),
            layout=widgets.Layout(flex_flow="row wrap", flex="1 1 auto"),
        )
        self.widget.add_class("cv-form")

    def value(self) -> Any:
        """The input the fields stand for."""
        return input_from(self.schema, {name: t.value for name, t in self.texts.items()})

    def fill(self, input: Any) -> None:
        """Show ``input`` in the fields (values that are not text are shown as text)."""
        if self.schema.variables:
            if isinstance(input, Mapping):
                for name, text in self.texts.items():
                    if name in input:
                        text.value = _as_text(input[name])
            return
        self.texts[WHOLE_INPUT].value = _as_text(input)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)

"""What input a chain needs, as far as its steps declare it (no source parsing)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["InputSchema"]


@dataclass(frozen=True)
class InputSchema:
    """``variables``: the keys the chain's input dict must have. ``open``: True when some
    step takes its input as a whole (any value, or a bare string for a one-variable prompt)."""

    variables: tuple[str, ...] = ()
    open: bool = True

    @classmethod
    def any(cls) -> InputSchema:
        return cls((), True)

    @classmethod
    def of(cls, variables: Iterable[str]) -> InputSchema:
        return cls(tuple(variables), False)

    @classmethod
    def union(cls, schemas: Iterable[InputSchema]) -> InputSchema:
        variables: list[str] = []
        is_open = False
        for schema in schemas:
            is_open = is_open or schema.open
            variables.extend(v for v in schema.variables if v not in variables)
        return cls(tuple(variables), is_open and not variables)

    def json_schema(self) -> dict[str, Any]:
        """A JSON Schema for the input, like LangChain's ``get_input_schema().schema()``."""
        if not self.variables:
            return {"title": "Input"}
        return {
            "title": "Input",
            "type": "object",
            "properties": {v: {"title": v.title(), "type": "string"} for v in self.variables},
            "required": list(self.variables),
        }

"""Prompt templates: ``{variable}`` text filled from the step's input.

:class:`PromptTemplate` makes one string (a :class:`StringPromptValue`);
:class:`ChatPromptTemplate` makes a list of messages (a :class:`ChatPromptValue`).
Both check their templates when they are built (an unbalanced brace or an empty
name is a :class:`~chainviz.errors.TemplateError` naming its position) and their
input when they run (a missing variable is a
:class:`~chainviz.errors.StepInputError` naming the step, the missing variables
and the keys that were given). A one-variable prompt accepts a bare value
(``chain.invoke("bears")``). Values are formatted for reading: a document is its
text, a list of documents their texts, a message its content.

Templates are plain attributes (``prompt.template``); ``prompt.with_replaced(
template="...")`` returns a checked, working copy, which is how edited prompts are
swapped into a chain.
"""

from __future__ import annotations

from chainviz.messages import ChatPromptValue, PromptValue, StringPromptValue
from chainviz.prompts.base import BasePromptTemplate
from chainviz.prompts.chat import ChatPromptTemplate, MessagesPlaceholder, MessageTemplate
from chainviz.prompts.string import PromptTemplate
from chainviz.prompts.template import format_value, parse_template

__all__ = [
    "BasePromptTemplate",
    "ChatPromptTemplate",
    "ChatPromptValue",
    "MessageTemplate",
    "MessagesPlaceholder",
    "PromptTemplate",
    "PromptValue",
    "StringPromptValue",
    "format_value",
    "parse_template",
]

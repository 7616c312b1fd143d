"""Defence in depth for exports: blank out strings that look like credentials.

Exports never contain step configs or model objects in the first place; this is
the second line, for a key that found its way into an error message or an
output (``openai.AuthenticationError: Incorrect API key provided: sk-...``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "scrub", "scrub_json"]

REDACTED = "[REDACTED]"

# Whole tokens that are credentials by their shape.
_TOKENS = re.compile(
    r"""
      \bsk-[A-Za-z0-9_\-]{16,}              # OpenAI / Anthropic style: sk-..., sk-proj-...
    | \b(?:AKIA|ASIA)[0-9A-Z]{16}\b         # AWS access key ids
    | \bAIza[0-9A-Za-z_\-]{35}              # Google API keys
    | \bgh[pousr]_[A-Za-z0-9]{30,}          # GitHub tokens
    | \bgithub_pat_[A-Za-z0-9_]{30,}
    | \bxox[abprs]-[A-Za-z0-9\-]{10,}       # Slack tokens
    | \bhf_[A-Za-z0-9]{30,}                 # Hugging Face tokens
    """,
    re.VERBOSE,
)
# A secret after a telling name: "Bearer x", "api_key=x", '"password": "x y"'. A quoted
# value is blanked up to its closing quote, a bare one up to a space or punctuation.
_AFTER_NAME = re.compile(
    r"""
    (?P<name>
        \bbearer\s+
      | (?<![A-Za-z0-9])(?:api[_\-]?key|access[_\-]?token|auth[_\-]?token|secret[_\-]?key
          |client[_\-]?secret|password|passwd|authorization)["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token)\s+)?
    )
    (?P<secret>(?<=["'])[^"'\r\n]{6,}|[^\s"',;}{]{6,})
    """,
    re.VERBOSE | re.IGNORECASE,
)


def scrub(text: str) -> str:
    """``text`` with credential-like substrings replaced by ``[REDACTED]``."""
    text = _TOKENS.sub(REDACTED, text)
    return _AFTER_NAME.sub(lambda m: m.group("name") + REDACTED, text)


def scrub_json(value: Any) -> Any:
    """A copy of a JSON-like value with every string (keys too) scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {scrub(str(k)): scrub_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_json(v) for v in value]
    return value

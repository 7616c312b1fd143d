"""What the simulated model says: pure functions from a prompt to a reply.

No timing and no state here (see :mod:`chainviz.models.simulated`). Given the
same messages and the same ``seed`` the reply is the same.

* A question asked with a context (``Context: ... Question: ...``, or LangChain's
  "Answer the question based only on the following context") is answered with the
  context sentence that best matches the question: shared words, weighted by how
  rare they are among the context's sentences, after a light stemming.
* Any other request is answered with a short text about its subject that follows
  the request: a joke, a poem with the asked number of lines, a story, facts, a
  list, a short answer. Templates are filled with the subject and chosen by seed.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from chainviz.models import phrases

__all__ = [
    "Request",
    "best_sentence",
    "count_tokens",
    "find_context_question",
    "parse_request",
    "respond",
    "tokenize",
]

# ------------------------------------------------------------------------- tokens

_TOKEN = re.compile(r"\n+|[ \t]*(?:'[a-z]{1,2}(?![a-z])|[A-Za-z]+|\d{1,3}|[^\sA-Za-z\d])|\s+")


def tokenize(text: str) -> list[str]:
    """Split text into word and punctuation pieces, as a model streams them; a piece
    keeps its leading space, long words are split, and the pieces join back to ``text``."""
    tokens: list[str] = []
    for piece in _TOKEN.findall(text):
        word = piece.lstrip(" \t")
        if len(word) > 8 and word.isalpha():
            lead = piece[: len(piece) - len(word)]
            cuts = [word[i : i + 6] for i in range(0, len(word), 6)]
            tokens.append(lead + cuts[0])
            tokens.extend(cuts[1:])
        else:
            tokens.append(piece)
    return tokens


def count_tokens(text: str) -> int:
    return len(tokenize(text))


# ---------------------------------------------------------- questions with a context

_QUESTION_LABEL = re.compile(r"(?im)^[ \t]*(?:question|query|q)[ \t]*:[ \t]*")
_CONTEXT_LABEL = re.compile(r"(?i)\bcontext\b[^\n:]{0,40}:")
_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")

_IRREGULAR = {
    "went": "go", "gone": "go", "was": "be", "were": "be", "born": "bear", "grew": "grow",
    "grown": "grow", "taught": "teach", "wrote": "write", "written": "write", "built": "build",
    "bought": "buy", "made": "make", "ran": "run", "won": "win", "met": "meet", "left": "leave",
    "found": "find", "held": "hold", "led": "lead", "spoke": "speak", "studies": "study",
    "studied": "study", "lives": "live", "lived": "live",
}


def _stem(word: str) -> str:
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    for suffix, replacement in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""),
                                ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: len(word) - len(suffix)] + replacement
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def _terms(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if w not in phrases.STOPWORDS}


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _hint(question: str, sentence: str) -> float:
    """A small bonus that breaks ties by the kind of question (where / when / who)."""
    first = question.lower().split()[:1]
    if first == ["where"] and re.search(r"\b(at|in|from|near)\b", sentence.lower()):
        return 0.1
    if first == ["when"] and re.search(r"\d", sentence):
        return 0.1
    if first == ["who"] and re.search(r"\s[A-Z]", sentence):
        return 0.1
    return 0.0


def best_sentence(context: str, question: str) -> str | None:
    """The sentence of ``context`` that best answers ``question``, or None if none shares
    a word with it."""
    sentences = split_sentences(context)
    wanted = _terms(question)
    if not sentences or not wanted:
        return None
    terms = [_terms(s) for s in sentences]
    frequency = Counter(t for found in terms for t in found)
    best, best_score = None, 0.0
    for sentence, found in zip(sentences, terms):
        shared = wanted & found
        if not shared:
            continue
        score = sum(math.log(1 + len(sentences) / frequency[t]) for t in shared)
        score += _hint(question, sentence)
        if score > best_score:
            best, best_score = sentence, score
    return best


def find_context_question(messages: Sequence[tuple[str, str]]) -> tuple[str, str] | None:
    """``(context, question)`` when the prompt asks a question about a given context."""
    full = "\n".join(content for _, content in messages)
    labels = list(_QUESTION_LABEL.finditer(full))
    if labels:
        label = labels[-1]
        question = full[label.end() :].split("\n\n")[0].strip()
        before = full[: label.start()]
        contexts = list(_CONTEXT_LABEL.finditer(before))
        if contexts:
            context = before[contexts[-1].end() :]
        else:  # no label: what precedes the question, minus an instruction line ending in ':'
            lines = before.strip().split("\n")
            context = "\n".join(lines[1:] if lines and lines[0].endswith(":") else lines)
        return (context, question) if context.strip() and question else None
    humans = [content for role, content in messages if role == "human"]
    for _, content in messages:
        found = _CONTEXT_LABEL.search(content)
        if found and humans and not _CONTEXT_LABEL.search(humans[-1]):
            return content[found.end() :], humans[-1].strip()
    return None


# ---------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Request:
    """What a prompt asks for: ``form`` (joke, poem, story, facts, list, summary, answer,
    note), its ``subject``, and how many lines or items."""

    form: str
    subject: str
    count: int = 0
    text: str = ""


_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "a": 1, "an": 1, "single": 1}
_COUNT = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|a|an|single)"
_FORMS = (
    ("joke", r"\b(joke|pun|funny|make me laugh)"),
    ("poem", r"\b(poem|haiku|limerick|verse|rhyme|couplet|sonnet)"),
    ("story", r"\b(story|tale|fable)"),
    ("facts", r"\bfacts?\b"),
    ("summary", r"\b(summari[sz]e|summary|tl;?dr)"),
    ("list", r"\b(list|name|give me|suggest|ideas)\b"),
    ("answer", r"(\?\s*$|^\s*(what|why|how|who|when|where|which|explain|describe|is|are|can"
               r"|do|does)\b)"),
)
_SUBJECT = re.compile(
    r"\b(?:about|regarding|concerning|describing"
    r"|(?:poem|joke|story|haiku|limerick|essay|facts?|song|note)\s+(?:on|of))\s+(.+)",
    re.IGNORECASE | re.DOTALL,
)
_REQUEST_WORDS = phrases.wordset(
    """please can could would you tell me write give compose create make generate list name
    suggest share explain describe what who why how when where which is are was were do does did
    the a an some short little quick brief one two three four five six seven eight nine ten
    idea ideas thing things way ways example examples fact facts for of on about to"""
)


def _strip_request_words(text: str) -> str:
    words = text.split()
    while words and (words[0].lower().strip(",?") in _REQUEST_WORDS or words[0][:1].isdigit()):
        words.pop(0)
    return " ".join(words)


def _clean_subject(text: str) -> str:
    text = re.split(r"[.!?;:\n]", text, maxsplit=1)[0]
    text = re.sub(r"^\s*(?:the|a|an)\s+", "", text.strip(), flags=re.IGNORECASE)
    words = text.split()[:6]
    return " ".join(words).strip(" ,\"'") or "this"


def _count(text: str, default: int) -> int:
    found = re.search(
        _COUNT + r"[- ](?:lines?|items?|facts?|things|ideas|ways|sentences?)\b", text, re.IGNORECASE
    )
    if found is None:
        return default
    value = found.group(1).lower()
    return max(1, min(12, int(value) if value.isdigit() else _NUMBERS[value]))


def parse_request(text: str) -> Request:
    """The form, subject and size of a plain request."""
    lowered = text.lower()
    form = next((name for name, pattern in _FORMS if re.search(pattern, lowered.strip())), "note")
    about = _SUBJECT.search(text)
    subject = _clean_subject(about.group(1) if about else _strip_request_words(text))
    if form == "poem":
        default = 3 if "haiku" in lowered else 5 if "limerick" in lowered else 2 if (
            "couplet" in lowered) else 4
        return Request(form, subject, _count(text, default), text)
    if form in ("facts", "list"):
        return Request(form, subject, _count(text, 1 if form == "facts" and " a fact" in lowered
                                              else 3), text)
    if form == "summary":
        body = text.split(":", 1)[1] if ":" in text else text
        return Request(form, subject, 0, body.strip())
    return Request(form, subject, 0, text)


# ----------------------------------------------------------------------- replies


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def respond(messages: Sequence[tuple[str, str]], seed: int) -> str:
    """The reply to a chat given as ``(role, content)`` pairs (roles: system, human, ai)."""
    found = find_context_question(messages)
    if found is not None:
        context, question = found
        answer = best_sentence(context, question)
        if answer is None:
            return "I don't know: the context does not say."
        return _sentence(answer)
    humans = [content for role, content in messages if role == "human"]
    text = humans[-1] if humans else (messages[-1][1] if messages else "")
    labels = list(_QUESTION_LABEL.finditer(text))
    if labels:
        text = text[labels[-1].end() :].split("\n\n")[0]
    request = parse_request(text)
    return phrases.compose(
        request.form, request.subject, request.count, request.text, random.Random(seed)
    )

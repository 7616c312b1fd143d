"""Word banks and templates for the simulated model's replies (pure functions, no state).

:func:`compose` fills a template for a form of request (joke, poem, story, facts,
list, summary, answer, note) with the request's subject; the caller's seeded
``random.Random`` picks the template and the words, so replies vary from call to
call but are reproducible.
"""

from __future__ import annotations

import random
import re

__all__ = ["STOPWORDS", "compose", "nouns", "wordset"]



def wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS = wordset(
    """a an the of in at on to for from by with about as and or but not no is are was were be
    been being am do does did done has have had having what where when who whom whose why how
    which that this these those it its i you he she they we me my your his her their our them
    him us can could would should will shall may might must please tell answer question
    context following only based there here than then so if into out up down over just also
    any some all each very much many"""
)

_UNCOUNTABLE = wordset(
    """water coffee tea music love weather math software hardware advice information news rice
    money furniture knowledge sand snow rain art physics chess history science"""
)

CURATED_JOKES: dict[str, list[tuple[str, str]]] = {
    "bear": [
        ("Why don't bears wear shoes?", "Because they have bear feet!"),
        ("What do you call a bear with no teeth?", "A gummy bear!"),
    ],
    "cat": [("Why was the cat sitting on the computer?", "To keep an eye on the mouse!")],
    "dog": [("Why did the dog sit in the shade?", "Because it didn't want to be a hot dog!")],
    "fish": [("Why don't fish play basketball?", "Because they're afraid of the net!")],
    "cow": [("Where do cows go on a Saturday night?", "To the moo-vies!")],
    "owl": [("What do you call an owl that does magic?", "Hoo-dini!")],
    "computer": [("Why did the computer go to the doctor?", "Because it had a virus!")],
    "programmer": [("Why do programmers prefer dark mode?", "Because light attracts bugs!")],
}

JOKES = [
    ("Why did the {s} bring a ladder to the meeting?",
     "Because it heard the discussion was on another level!"),
    ("What do you call {a_s} that tells jokes?",
     "A stand-up {s}: its act always gets a roaring response!"),
    ("Why don't {p} ever win at hide-and-seek?",
     "Because everyone is always talking about {p}!"),
    ("How many {p} does it take to change a light bulb?",
     "Just one, but it spends all night explaining why it's the best {s} for the job."),
    ("Why did the {s} sit down at the piano?",
     "It wanted to show its {adj} side, but it only knew one key!"),
    ("What did one {s} say to the other?",
     "\"Let's stick together: nobody understands {p} like we do.\""),
]

COUPLETS = [
    ("In {place}, the {s} {moves} with quiet might,",
     "{adj} and {adj2}, from dawn to fading light."),
    ("Beneath the {sky}, the {s} {moves} alone,", "{a_adj} heart in a world of wind and stone."),
    ("Oh {s}, so {adj} beneath the open sky,", "you teach the restless world to wonder why."),
    ("The {s} {moves} where the rivers meet,", "its {adj} song both wild and sweet."),
    ("When evening falls on fields of snow,", "the {s} recalls what the old stars know."),
    ("{a_adj} {s} beneath the morning sun", "reminds us that the day has just begun."),
    ("Through {place} the {s} {moves} on,", "as {adj} as the hush before the dawn."),
]

SINGLE_LINES = [
    "and still the {s} {moves}, {adj} and free.",
    "the {s} remains, and so, somehow, do we.",
    "and {place} keeps the secret of the {s}.",
]

HAIKU = [
    ("{adj} {s} at dawn", "{moves} through {place} in silence", "the {sky} listens"),
    ("under the {sky}", "{a_adj} {s} {moves}", "nobody watching"),
    ("old {place}", "the {s} {moves}, then is gone", "{adj2} wind remains"),
]

STORIES = [
    "Once upon a time, {a_s} lived in {place}. Every evening it watched the {sky} and wondered "
    "what lay beyond it. One day it found a path no one else had noticed, and followed it. "
    "It came home {adj2}, and never stopped telling the tale.",
    "There was once {a_adj} {s} who wanted to see the world. It left {place} with nothing but "
    "a map and a good idea. The journey was long, but by the end everyone knew its name.",
]

FACTS = [
    "{P} show up in stories, songs and proverbs in many cultures.",
    "people have studied {p} for a long time, and there is still more to learn about them.",
    "the word \"{p}\" has a long history, and its meaning has shifted over the centuries.",
    "{p} are often used as symbols of being {adj} and {adj2}.",
    "many museums and libraries keep collections about {p}.",
]

LIST_ITEMS = [
    "a short history of {p}", "how {p} are seen in different cultures",
    "the most {adj} {p} on record", "common myths about {p}", "what {p} can teach us",
    "{p} in art and literature", "a beginner's guide to {p}", "surprising facts about {p}",
    "how to draw {a_s}", "the future of {p}", "{p} around the world", "famous {p}",
]

ANSWERS = [
    "Here is a short answer about {s}: it comes down to a few key ideas, namely what it is, how "
    "it works and why it matters. (This answer is simulated; use ChatOpenAI for a real one.)",
    "Good question about {s}. The short version: it depends on the situation, but the core idea "
    "is simple once you see an example. (This answer is simulated; use ChatOpenAI for a real "
    "one.)",
]

NOTES = [
    "Here is a short note on {s}: it is {adj} and {adj2}, and there is more to it than meets "
    "the eye.",
    "{S}, in a few words: {adj}, {adj2}, and worth a closer look.",
]

PLACES = ["woodland depths", "the mountain pass", "the quiet hills", "the city's glow",
          "the open sea", "the northern woods", "the valley"]
MOVES = ["roams", "wanders", "dreams", "waits", "rests", "lingers", "drifts"]
ADJECTIVES = ["silent", "gentle", "fearless", "patient", "golden", "restless", "ancient",
              "curious", "proud", "tender"]
SKIES = ["silver moon", "open sky", "northern stars", "summer rain", "autumn leaves"]


def _article(word: str) -> str:
    vowel = word[:1].lower() in "aeiou" and not word.lower().startswith(("uni", "eu"))
    return "an" if vowel else "a"


def _plural(word: str) -> str:
    if word.lower() in _UNCOUNTABLE or word.endswith(("ing", "ness", "ics", "ism")):
        return word
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("xes", "ches", "shes", "sses")):
        return word[:-2]
    return word[:-1]


def nouns(subject: str) -> dict[str, str]:
    """The forms of a subject that templates use: ``s`` (singular), ``p`` (plural),
    ``a_s`` (with its article), and capitalised ``S`` and ``P``."""
    words = subject.split()
    last = words[-1] if words else "this"
    plural_last = last.endswith("s") and not last.endswith(("ss", "us", "is"))
    if plural_last and last.lower() not in _UNCOUNTABLE:
        singular, plural = " ".join([*words[:-1], _singular(last)]), subject
    else:
        singular, plural = subject, " ".join([*words[:-1], _plural(last)])
    return {
        "s": singular,
        "p": plural,
        "a_s": f"{_article(singular)} {singular}",
        "S": singular[:1].upper() + singular[1:],
        "P": plural[:1].upper() + plural[1:],
    }


def _capital(line: str) -> str:
    return line[:1].upper() + line[1:]


def _words(rng: random.Random, forms: dict[str, str]) -> dict[str, str]:
    adj, adj2 = rng.sample(ADJECTIVES, 2)
    return {
        **forms,
        "place": rng.choice(PLACES),
        "moves": rng.choice(MOVES),
        "sky": rng.choice(SKIES),
        "adj": adj,
        "adj2": adj2,
        "a_adj": f"{_article(adj)} {adj}",
    }


def _poem(count: int, haiku: bool, rng: random.Random, fill: dict[str, str]) -> str:
    if haiku and count == 3:
        lines = list(rng.choice(HAIKU))
    else:
        couplets = rng.sample(COUPLETS, min(len(COUPLETS), count // 2))
        lines = [line for pair in couplets for line in pair]
        while len(lines) < count:
            lines.append(SINGLE_LINES[len(lines) % len(SINGLE_LINES)])
    return "\n".join(_capital(line.format(**fill)) for line in lines[:count])


def _numbered(items: list[str], fill: dict[str, str]) -> str:
    return "\n".join(f"{i}. {_capital(item.format(**fill))}" for i, item in enumerate(items, 1))


def compose(form: str, subject: str, count: int, text: str, rng: random.Random) -> str:
    """A short reply of the given form about ``subject`` (``text`` is the request's text,
    used by summaries)."""
    forms = nouns(subject)
    fill = _words(rng, forms)
    if form == "joke":
        curated = CURATED_JOKES.get(forms["s"].lower(), [])
        setup, punchline = rng.choice(curated * 2 + JOKES)
        return f"{setup.format(**fill)}\n\n{punchline.format(**fill)}"
    if form == "poem":
        return _poem(max(1, count), "haiku" in text.lower(), rng, fill)
    if form == "story":
        return rng.choice(STORIES).format(**fill)
    if form == "facts":
        facts = rng.sample(FACTS, min(len(FACTS), max(1, count)))
        if len(facts) == 1:
            return f"Here is a fact about {forms['p']}: {facts[0].format(**fill)}"
        return f"Here are {len(facts)} facts about {forms['p']}:\n" + _numbered(facts, fill)
    if form == "list":
        items = rng.sample(LIST_ITEMS, min(len(LIST_ITEMS), max(1, count)))
        return f"Here are {len(items)} ideas about {forms['p']}:\n" + _numbered(items, fill)
    if form == "summary":
        first = re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0]
        return f"In short: {first}" if first else "There is nothing to summarize yet."
    if form == "answer":
        return rng.choice(ANSWERS).format(**fill)
    return rng.choice(NOTES).format(**fill)

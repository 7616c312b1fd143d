"""What the simulated model says: context answers, and replies that follow the request."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chainviz import RunnableLambda, RunnablePassthrough
from chainviz.messages import Document
from chainviz.models import SimulatedChatModel
from chainviz.models.text import best_sentence, parse_request, respond, tokenize
from chainviz.parsers import StrOutputParser
from chainviz.prompts import ChatPromptTemplate

SEED_TEMPLATE = """Answer the question based only on the following context:
{context}

Question: {question}
"""

# ------------------------------------------------------------ context questions

NAMES = ["Harrison", "Priya", "Tomasz", "Amara", "Lucia", "Kenji", "Odette", "Rafael"]
FACTS = [
    ("{name} worked at {place}.", "Where did {name} work?",
     ["Kensho", "Initech", "Globex", "Hooli", "Umbrella"]),
    ("{name} lived in {place} for ten years.", "where did {name} live?",
     ["Lisbon", "Osaka", "Nairobi", "Quito", "Oslo"]),
    ("{name} studied {place} at university.", "What did {name} study?",
     ["chemistry", "linguistics", "geology", "economics"]),
    ("{name} was born in {place}.", "When was {name} born?", ["1984", "1991", "2003", "1977"]),
    ("{name} plays the {place} every weekend.", "Which instrument does {name} play?",
     ["cello", "banjo", "oboe", "harp"]),
    ("{name} owns a dog called {place}.", "What is the name of {name}'s dog?",
     ["Biscuit", "Pepper", "Ziggy", "Mochi"]),
]


def generated_case(index: int) -> tuple[list[str], str, str]:
    """Sentences (the answer, a sentence about the same person, a sentence with the same
    relation about someone else, in shuffled order), the question, and the answer."""
    rng = random.Random(index)
    person, other = rng.sample(NAMES, 2)
    fact, distractor_fact = rng.sample(FACTS, 2)
    answer = fact[0].format(name=person, place=rng.choice(fact[2]))
    same_person = distractor_fact[0].format(name=person, place=rng.choice(distractor_fact[2]))
    same_relation = fact[0].format(name=other, place=rng.choice(fact[2]))
    sentences = [answer, same_person, same_relation]
    rng.shuffle(sentences)
    return sentences, fact[1].format(name=person), answer


def retrieval_chain(sentences: list[str], seed: int = 0) -> Any:
    retriever = RunnableLambda(lambda question: [Document(s) for s in sentences], name="retriever")
    model = SimulatedChatModel(seed=seed, latency_scale=0)
    prompt = ChatPromptTemplate.from_template(SEED_TEMPLATE)
    return {"context": retriever, "question": RunnablePassthrough()} | prompt | model | (
        StrOutputParser()
    )


@pytest.mark.parametrize("index", range(8))
def test_context_questions_get_the_matching_sentence(index: int) -> None:
    sentences, question, answer = generated_case(index)
    for seed in (0, 1):
        assert retrieval_chain(sentences, seed).invoke(question) == answer


@pytest.mark.parametrize("index", range(8))
def test_context_question_with_labels_in_separate_messages(index: int) -> None:
    sentences, question, answer = generated_case(100 + index)
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Use this context:\n{context}"), ("human", "{question}")]
    )
    chain = prompt | SimulatedChatModel(latency_scale=0)
    reply = chain.invoke({"context": " ".join(sentences), "question": question})
    assert reply.content == answer


def test_the_seed_retrieval_example_says_harrison_worked_at_kensho() -> None:
    answer = retrieval_chain(["harrison worked at kensho"]).invoke("where did harrison work?")
    assert answer.lower() == "harrison worked at kensho."


def test_the_seed_retrieval_example_with_a_faiss_store() -> None:
    pytest.importorskip("numpy")
    pytest.importorskip("faiss")
    from chainviz.retrieval import FAISS, HashingEmbeddings

    vectorstore = FAISS.from_texts(["harrison worked at kensho"], embedding=HashingEmbeddings())
    retriever = vectorstore.as_retriever()
    prompt = ChatPromptTemplate.from_template(SEED_TEMPLATE)
    model = SimulatedChatModel(latency_scale=0)
    chain = (
        {"context": retriever, "question": RunnablePassthrough()}
        | prompt
        | model
        | StrOutputParser()
    )
    assert "harrison worked at kensho" in chain.invoke("where did harrison work?").lower()


def test_no_shared_word_means_no_answer() -> None:
    reply = respond([("human", "Context: Bears sleep in winter.\n\nQuestion: who won in 1990?")], 0)
    assert reply == "I don't know: the context does not say."
    assert best_sentence("", "anything") is None


# ----------------------------------------------------------------- other requests

SUBJECTS = ["bear", "cats", "the ocean", "coffee", "robots", "volcano"]


def say(text: str, seed: int = 0) -> str:
    return str(SimulatedChatModel(seed=seed, latency_scale=0).invoke(text).content)


def test_a_joke_follows_the_request() -> None:
    for subject in SUBJECTS:
        joke = say(f"tell me a joke about {subject}")
        setup, _, punchline = joke.partition("\n\n")
        assert setup.endswith("?") or setup.endswith(".")
        assert punchline, joke
        stem = subject.removeprefix("the ").rstrip("s")
        assert stem in joke.lower(), joke


@pytest.mark.parametrize(
    ("request_text", "lines"),
    [
        ("write a 2-line poem about {s}", 2),
        ("write a two-line poem about {s}", 2),
        ("write a 4-line poem about {s}", 4),
        ("write a poem about {s} in 3 lines", 3),
        ("write a haiku about {s}", 3),
    ],
)
def test_a_poem_has_the_asked_number_of_lines(request_text: str, lines: int) -> None:
    for subject in SUBJECTS:
        poem = say(request_text.format(s=subject))
        assert len(poem.split("\n")) == lines, poem
        assert subject.removeprefix("the ").rstrip("s") in poem.lower(), poem


def test_different_requests_and_subjects_get_different_texts() -> None:
    texts = {
        (form, subject): say(form.format(s=subject))
        for form in ("tell me a joke about {s}", "write a 2-line poem about {s}",
                     "tell me a story about {s}", "give me 3 facts about {s}",
                     "what is {s}?")
        for subject in SUBJECTS
    }
    assert len(set(texts.values())) == len(texts)


@pytest.mark.parametrize(
    ("text", "form", "subject", "count"),
    [
        ("tell me a joke about bear", "joke", "bear", 0),
        ("write a 2-line poem about bear", "poem", "bear", 2),
        ("Write a haiku about the autumn wind.", "poem", "autumn wind", 3),
        ("give me five facts about octopuses", "facts", "octopuses", 5),
        ("list 4 ideas for machine learning projects", "list", "machine learning projects", 4),
        ("What is the capital of France?", "answer", "capital of France", 0),
        ("tell me a story about a lonely robot", "story", "lonely robot", 0),
    ],
)
def test_parse_request(text: str, form: str, subject: str, count: int) -> None:
    request = parse_request(text)
    assert (request.form, request.subject, request.count) == (form, subject, count)


def test_a_summary_uses_the_given_text() -> None:
    reply = say("Summarize: The meeting moved to Friday. Bring the slides.")
    assert reply == "In short: The meeting moved to Friday."


def test_seed_changes_the_text_of_open_requests() -> None:
    jokes = {say("tell me a joke about robots", seed) for seed in range(6)}
    assert len(jokes) > 1


# --------------------------------------------------------------------------- tokens


@given(st.text(max_size=80))
def test_tokens_join_back_to_the_text(text: str) -> None:
    assert "".join(tokenize(text)) == text


def test_tokens_are_words_and_punctuation() -> None:
    assert tokenize("Why don't bears wear shoes?\n\nBear feet!") == [
        "Why", " don", "'t", " bears", " wear", " shoes", "?", "\n\n", "Bear", " feet", "!"
    ]
    assert tokenize(" extraordinarily") == [" extrao", "rdinar", "ily"]

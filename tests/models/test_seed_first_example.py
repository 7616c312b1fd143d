"""The seed page's first example runs offline with only its import lines changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chainviz.errors import ModelConfigurationError
from chainviz.models import SimulatedChatModel

REPO = Path(__file__).resolve().parents[2]

# As printed on LangChain's "Parallelize steps" page.
SEED = '''
from langchain.chat_models import ChatOpenAI
from langchain.prompts import ChatPromptTemplate
from langchain.schema.runnable import RunnableParallel

model = ChatOpenAI()
joke_chain = ChatPromptTemplate.from_template("tell me a joke about {topic}") | model
poem_chain = (
    ChatPromptTemplate.from_template("write a 2-line poem about {topic}") | model
)

map_chain = RunnableParallel(joke=joke_chain, poem=poem_chain)

map_chain.invoke({"topic": "bear"})
'''

OFFLINE = '''
from chainviz.models import SimulatedChatModel as ChatOpenAI
from chainviz.prompts import ChatPromptTemplate
from chainviz import RunnableParallel

model = ChatOpenAI()
joke_chain = ChatPromptTemplate.from_template("tell me a joke about {topic}") | model
poem_chain = (
    ChatPromptTemplate.from_template("write a 2-line poem about {topic}") | model
)

map_chain = RunnableParallel(joke=joke_chain, poem=poem_chain)

map_chain.invoke({"topic": "bear"})
'''

# Runs a source as a script and shows its last expression, as a notebook cell would.
RUNNER = '''
import json, sys
lines = sys.stdin.read().strip().splitlines()
namespace = {"__name__": "__main__"}
exec("\\n".join(lines[:-1]), namespace)
result = eval(lines[-1], namespace)
print(json.dumps({k: [type(v).__name__, v.content, v.usage_metadata] for k, v in result.items()}))
'''


def code_lines(source: str) -> list[str]:
    return [line for line in source.splitlines() if not line.startswith(("from ", "import "))]


def test_only_the_import_lines_differ() -> None:
    assert code_lines(OFFLINE) == code_lines(SEED)


def test_the_first_example_runs_as_a_script_with_no_key_and_no_network() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CHAINVIZ_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", RUNNER], input=OFFLINE, capture_output=True, text=True, env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"joke", "poem"}
    joke_type, joke, joke_usage = result["joke"]
    poem_type, poem, _ = result["poem"]
    assert joke_type == poem_type == "AIMessage"
    assert "bear" in joke.lower() and "\n\n" in joke
    assert "bear" in poem.lower() and len(poem.split("\n")) == 2
    assert joke_usage["output_tokens"] > 5


def test_chat_openai_never_falls_back_to_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("openai")
    from chainviz.models import ChatOpenAI

    assert not issubclass(ChatOpenAI, SimulatedChatModel)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ModelConfigurationError):
        ChatOpenAI().invoke("tell me a joke about bears")

from __future__ import annotations

import asyncio
import operator
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import chainviz.core.batch
from chainviz import (
    ConfigurableField,
    InputSchema,
    RunnableLambda,
    RunnableParallel,
    RunnablePassthrough,
    RunnableSequence,
)
from chainviz.core.lambdas import RunnableGenerator
from chainviz.core.pool import ThreadPool
from chainviz.errors import CompositionError, ConfigError, StepInputError
from tests.core.helpers import FakePrompt, run_mode


def test_dict_coerces_to_parallel_and_itemgetter_is_a_branch(mode: str) -> None:
    chain = {"q": operator.itemgetter("question"), "n": lambda d: len(d)} | RunnableLambda(
        lambda d: f"{d['q']}:{d['n']}"
    )
    assert isinstance(chain, RunnableSequence)
    assert isinstance(chain.steps[0], RunnableParallel)
    assert run_mode(mode, chain, {"question": "why"}) == "why:1"


def test_sequences_flatten() -> None:
    a, b, c = RunnableLambda(str), RunnableLambda(len), RunnableLambda(abs)
    chain = (a | b) | c
    assert chain.steps == [a, b, c]
    assert (a | (b | c)).steps == [a, b, c]
    assert a.pipe(b, c).steps == [a, b, c]


def test_parallel_keyword_and_dict_forms(mode: str) -> None:
    by_kw = RunnableParallel(a=RunnableLambda(str), b=RunnableLambda(len))
    by_dict = RunnableParallel({"a": RunnableLambda(str), "b": RunnableLambda(len)})
    assert run_mode(mode, by_kw, "xy") == run_mode(mode, by_dict, "xy") == {"a": "xy", "b": 2}


def test_passthrough_and_assign(mode: str) -> None:
    chain = RunnablePassthrough() | RunnablePassthrough.assign(n=lambda d: d["x"] * 2)
    assert run_mode(mode, chain, {"x": 3}) == {"x": 3, "n": 6}
    with pytest.raises(StepInputError, match="expects a dict"):
        run_mode(mode, RunnablePassthrough.assign(n=len), "text")


def test_async_functions_and_sync_functions_mix(mode: str) -> None:
    async def double(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    chain = RunnableLambda(double) | (lambda x: x + 1)
    assert run_mode(mode, chain, 5) == 11


def test_not_a_runnable_is_a_clear_error() -> None:
    with pytest.raises(CompositionError, match="Expected a runnable"):
        RunnableLambda(str) | 42  # type: ignore[operator]


def test_langchain_objects_are_rejected_with_advice() -> None:
    class Impostor:
        __module__ = "langchain_core.runnables.base"

        def __call__(self, x: Any) -> Any:
            return x

    with pytest.raises(CompositionError, match="import the same name from chainviz"):
        RunnableLambda(str) | Impostor()


def test_configurable_alternatives_and_fields(mode: str) -> None:
    prompt = FakePrompt("joke about {topic}").configurable_alternatives(
        ConfigurableField(id="prompt"), default_key="joke", poem=FakePrompt("poem about {topic}")
    )
    assert run_mode(mode, prompt, {"topic": "bear"}) == "joke about bear"
    chosen = {"configurable": {"prompt": "poem"}}
    assert run_mode(mode, prompt, {"topic": "bear"}, chosen) == "poem about bear"
    with pytest.raises(ConfigError, match="'joke', 'poem'"):
        run_mode(mode, prompt, {"topic": "bear"}, {"configurable": {"prompt": "haiku"}})
    edited = FakePrompt("x {topic}").configurable_fields(template=ConfigurableField(id="tpl"))
    config = {"configurable": {"tpl": "edited {topic}"}}
    assert run_mode(mode, edited, {"topic": "t"}, config) == "edited t"


def test_bind_passes_kwargs_to_the_step(mode: str) -> None:
    from chainviz.core.base import Runnable
    from chainviz.core.run import Step

    class Echo(Runnable[Any, Any]):
        def _call(self, input: Any, step: Step) -> Any:
            return dict(step.kwargs)

    assert run_mode(mode, Echo().bind(stop=["\n"]), 1) == {"stop": ["\n"]}


def test_input_schema() -> None:
    class Prompt(FakePrompt):
        def get_input_schema(self) -> InputSchema:
            return InputSchema.of(["topic", "style"])

    chain = RunnableParallel(a=Prompt(), b=Prompt()) | RunnableLambda(str)
    assert chain.get_input_schema().variables == ("topic", "style")
    assert RunnableLambda(str).get_input_schema().open
    assert chain.get_input_schema().json_schema()["required"] == ["topic", "style"]


def test_stream_passes_chunks_while_upstream_produces() -> None:
    order: list[str] = []

    def produce(_: Iterator[Any]) -> Iterator[str]:
        for word in ["a", "b", "c"]:
            order.append(f"made {word}")
            yield word

    def shout(chunks: Iterator[str]) -> Iterator[str]:
        for chunk in chunks:
            order.append(f"shout {chunk}")
            yield chunk.upper()

    chain = RunnableGenerator(produce) | shout
    assert list(chain.stream(None)) == ["A", "B", "C"]
    assert order == ["made a", "shout a", "made b", "shout b", "made c", "shout c"]


def test_astream_passes_chunks_while_upstream_produces() -> None:
    order: list[str] = []

    async def produce(_: Any) -> Any:
        for word in ["a", "b"]:
            order.append(f"made {word}")
            yield word

    async def shout(chunks: Any) -> Any:
        async for chunk in chunks:
            order.append(f"shout {chunk}")
            yield chunk.upper()

    chain = RunnableGenerator(produce) | RunnableGenerator(shout)

    async def main() -> list[str]:
        return [c async for c in chain.astream(None)]

    assert asyncio.run(main()) == ["A", "B"]
    assert order == ["made a", "shout a", "made b", "shout b"]


def test_a_plain_function_collects_its_streamed_input() -> None:
    def produce(_: Any) -> Iterator[str]:
        yield from ["x", "y", "z"]

    chain = RunnableGenerator(produce) | RunnableLambda(lambda s: f"<{s}>")
    assert list(chain.stream(None)) == ["<xyz>"]
    assert chain.invoke(None) == "<xyz>"


def test_batch_keeps_order_and_can_return_exceptions(mode: str) -> None:
    def maybe(x: int) -> int:
        if x == 2:
            raise ValueError("two")
        return x * 10

    chain = RunnableLambda(maybe)
    if mode == "sync":
        out = chain.batch([0, 1, 2, 3], return_exceptions=True)
    else:
        out = asyncio.run(chain.abatch([0, 1, 2, 3], return_exceptions=True))
    assert out[:2] == [0, 10] and isinstance(out[2], ValueError) and out[3] == 30
    with pytest.raises(ValueError):
        chain.batch([1, 2]) if mode == "sync" else asyncio.run(chain.abatch([1, 2]))


def test_batch_as_completed_yields_every_index_once() -> None:
    chain = RunnableLambda(lambda x: x * 2)
    pairs = list(chain.batch_as_completed(list(range(20)), {"max_concurrency": 3}))
    assert sorted(pairs) == [(i, i * 2) for i in range(20)]


@pytest.mark.parametrize("cheap_first", [0, 200, 20_000])
def test_a_batch_fans_out_when_items_block_even_after_cheap_ones(
    cheap_first: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Items start on the caller's thread; the scout must notice when one blocks, at
    # the start or after many cheap items, or these 8 could never meet. It starts
    # threads for the items left, not for the whole batch (it once started 4,096).
    pool = ThreadPool()
    monkeypatch.setattr(chainviz.core.batch, "shared_pool", lambda: pool)
    barrier = threading.Barrier(8, timeout=10)

    def item(x: int) -> int:
        if x >= cheap_first:
            barrier.wait()
        return x

    inputs = list(range(cheap_first + 8))
    assert RunnableLambda(item).batch(inputs) == inputs
    assert pool.thread_count <= 8  # the scout and seven workers beside the caller


def test_batch_as_completed_checks_its_config_at_the_call() -> None:
    chain = RunnableLambda(lambda x: x)
    with pytest.raises(ConfigError, match="'max_concurency'"):
        chain.batch_as_completed([1, 2], {"max_concurency": 2})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(ConfigError, match="2 inputs but 1 configs"):
        chain.batch_as_completed([1, 2], [{}])


def test_parallel_streams_branches_side_by_side(mode: str) -> None:
    def words(_: Any) -> Iterator[str]:
        yield from ["a", "b", "c"]

    def numbers(_: Any) -> Iterator[int]:
        yield from [1, 2]

    chain = RunnableParallel(w=RunnableGenerator(words), n=RunnableGenerator(numbers))
    if mode == "sync":
        chunks = list(chain.stream(None))
    else:

        async def main() -> list[Any]:
            return [c async for c in chain.astream(None)]

        chunks = asyncio.run(main())
    assert all(len(c) == 1 for c in chunks)
    assert [c["w"] for c in chunks if "w" in c] == ["a", "b", "c"]
    assert [c["n"] for c in chunks if "n" in c] == [1, 2]


def test_a_failing_branch_ends_the_stream_with_its_error(mode: str) -> None:
    def bad(_: Any) -> Iterator[str]:
        yield "x"
        raise ValueError("broken stream")

    chain = RunnableParallel(ok=RunnableLambda(str), bad=RunnableGenerator(bad))
    with pytest.raises(ValueError, match="broken stream"):
        if mode == "sync":
            list(chain.stream(1))
        else:

            async def main() -> None:
                async for _ in chain.astream(1):
                    pass

            asyncio.run(main())


@pytest.mark.parametrize("key", ["", 3])
def test_branch_keys_must_be_non_empty_strings(key: Any) -> None:
    with pytest.raises(CompositionError, match="non-empty strings"):
        RunnableParallel({key: RunnableLambda(str)})


def test_with_replaced_rebuilds_what_composites_derive(mode: str) -> None:
    parallel = RunnableParallel(a=RunnableLambda(str))
    swapped = parallel.with_replaced(steps__={"b": RunnableLambda(len)})
    assert run_mode(mode, swapped, "xyz") == {"b": 3}
    assert run_mode(mode, parallel, "xyz") == {"a": "xyz"}
    sequence = RunnableLambda(str) | RunnableLambda(len)
    longer = sequence.with_replaced(steps=[*sequence.steps, RunnableLambda(lambda n: n * 10)])
    assert run_mode(mode, longer, 123) == 30


def test_the_caller_config_wins_over_bound_config(mode: str) -> None:
    seen: dict[str, Any] = {}

    def look(x: Any, config: Any) -> Any:
        seen.update(config["configurable"])
        return x

    bound = RunnableLambda(look).with_config(configurable={"k": "bound", "only_bound": 1})
    run_mode(mode, bound, 1, {"configurable": {"k": "caller"}})
    assert seen == {"k": "caller", "only_bound": 1}

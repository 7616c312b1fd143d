"""A sync invoke works inside a running event loop (a notebook cell), with and without
nest_asyncio, and async-only steps still run under it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

from chainviz import RunnableLambda, RunnableParallel


async def _async_double(x: int) -> int:
    await asyncio.sleep(0.01)
    return x * 2


def test_sync_invoke_inside_a_running_loop() -> None:
    chain = RunnableParallel(a=RunnableLambda(_async_double), b=RunnableLambda(str)) | (
        lambda d: d["a"]
    )

    async def cell() -> int:
        return chain.invoke(4)  # what a notebook cell does: sync call, loop running

    assert asyncio.run(cell()) == 8


def test_sync_invoke_after_nest_asyncio_apply() -> None:
    # nest_asyncio patches asyncio globally: keep it out of this process.
    script = textwrap.dedent(
        """
        import asyncio, nest_asyncio
        nest_asyncio.apply()
        from chainviz import RunnableLambda, RunnableParallel

        async def double(x):
            await asyncio.sleep(0.01)
            return x * 2

        chain = RunnableParallel(a=RunnableLambda(double), b=RunnableLambda(str))

        async def cell():
            first = chain.invoke(3)
            second = await chain.ainvoke(3)
            return first, second

        print(asyncio.run(cell()))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "{'a': 6, 'b': '3'}" in done.stdout

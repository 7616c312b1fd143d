"""In a real kernel: the view's updates reach IOPub while the cell still blocks in
``view.run``; Interrupt cancels the run; a saved notebook keeps a static picture."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

jupyter_client = pytest.importorskip("jupyter_client")
pytest.importorskip("ipykernel")

REPO = Path(__file__).resolve().parents[2]

SETUP = """
import time, chainviz
from chainviz import RunnableParallel
from chainviz.prompts import ChatPromptTemplate
from chainviz.models import SimulatedChatModel
model = SimulatedChatModel(latency_scale=1.0)
joke = ChatPromptTemplate.from_template("tell me a joke about {topic}") | model
poem = ChatPromptTemplate.from_template("write a 2-line poem about {topic}") | model
chain = RunnableParallel(joke=joke, poem=poem)
essay = ChatPromptTemplate.from_template("an essay on {topic}")
haiku = ChatPromptTemplate.from_template("a haiku on {topic}")
slow = essay | SimulatedChatModel(latency_scale=30)
quick = haiku | SimulatedChatModel(latency_scale=0.05)
stoppable = RunnableParallel(slow=slow, quick=quick)
"""


def kernel_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env.pop("CHAINVIZ_LATENCY_SCALE", None)
    return env


@pytest.fixture(scope="module")
def kernel() -> Iterator[tuple[Any, Any]]:
    manager = jupyter_client.KernelManager(kernel_name="python3")
    manager.start_kernel(env=kernel_env(), extra_arguments=[])
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    try:
        reply = execute(client, SETUP)
        assert reply["status"] == "ok", reply
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def execute(client: Any, code: str, timeout: float = 60) -> dict[str, Any]:
    msg_id = client.execute(code)
    deadline = time.monotonic() + timeout
    while True:
        msg = client.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.1))
        if (msg["msg_type"] == "status" and msg["parent_header"].get("msg_id") == msg_id
                and msg["content"]["execution_state"] == "idle"):
            break
    return reply_to(client, msg_id, timeout)


def reply_to(client: Any, msg_id: str, timeout: float) -> dict[str, Any]:
    """The shell reply to ``msg_id`` (older replies, e.g. kernel_info's, are skipped)."""
    while True:
        msg = client.get_shell_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg["content"]  # type: ignore[no-any-return]


def collect(client: Any, code: str, on_msg: Any = None, timeout: float = 60
            ) -> tuple[list[tuple[float, dict[str, Any]]], dict[str, Any]]:
    """Every IOPub message (with the time it was read) until the cell's status is idle."""
    msg_id = client.execute(code)
    seen: list[tuple[float, dict[str, Any]]] = []
    deadline = time.monotonic() + timeout
    while True:
        msg = client.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.1))
        seen.append((time.monotonic(), msg))
        if on_msg is not None:
            on_msg(msg)
        if (msg["msg_type"] == "status" and msg["parent_header"].get("msg_id") == msg_id
                and msg["content"]["execution_state"] == "idle"):
            break
    return seen, reply_to(client, msg_id, timeout)


def snapshots(seen: list[tuple[float, dict[str, Any]]]) -> list[tuple[float, dict[str, Any]]]:
    out = []
    for at, msg in seen:
        if msg["msg_type"] != "comm_msg":
            continue
        state = msg["content"]["data"].get("state", {})
        if "snapshot" in state:
            out.append((at, state["snapshot"]))
    return out


@pytest.mark.slow
def test_updates_reach_iopub_while_the_cell_blocks_in_run(kernel: tuple[Any, Any]) -> None:
    _, client = kernel
    shown, reply = collect(client, "view = chainviz.show(chain)")
    assert reply["status"] == "ok", reply
    displays = [m for _, m in shown if m["msg_type"] == "display_data"]
    assert len(displays) == 1  # show() displayed it; the cell's value was not shown again
    data = displays[0]["content"]["data"]
    assert {"application/vnd.jupyter.widget-view+json", "image/svg+xml", "text/plain"} <= set(data)
    display_id = displays[0]["content"]["transient"]["display_id"]

    seen, reply = collect(
        client, "out = view.run({'topic': 'bear'})\nprint('RUN-DONE', sorted(out))"
    )
    assert reply["status"] == "ok", reply
    done_at = next(at for at, m in seen if m["msg_type"] == "stream"
                   and "RUN-DONE" in m["content"]["text"])
    sent = snapshots(seen)
    live = [(at, s) for at, s in sent if s["status"] == "running" and at < done_at]
    # The bars moved while the cell still blocked: several updates, spread over time,
    # some with tokens already streamed, all read before the cell printed its result.
    assert len(live) >= 3, [s["status"] for _, s in sent]
    assert live[-1][0] - live[0][0] >= 0.3
    assert any(lane["text"] and lane["status"] == "running"
               for _, s in live for lane in s["lanes"])
    # At most ten a second (kernel-side stamps), plus the final one.
    stamps = [m["header"]["date"] for _, m in seen if m["msg_type"] == "comm_msg"
              and "snapshot" in m["content"]["data"].get("state", {})]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps[:-1])]
    assert all(gap >= 0.09 for gap in gaps), gaps
    final = sent[-1][1]
    assert final["status"] == "done" and final["summary"]["speedup"] > 1.0
    # The saved notebook's picture was updated to the finished run.
    updates = [m for _, m in seen if m["msg_type"] == "update_display_data"]
    assert updates and updates[-1]["content"]["transient"]["display_id"] == display_id
    assert "speedup" in updates[-1]["content"]["data"]["text/plain"]


@pytest.mark.slow
def test_interrupt_cancels_the_long_branch_and_keeps_the_finished_one(
    kernel: tuple[Any, Any],
) -> None:
    manager, client = kernel
    reply = execute(client, "from chainviz.widgets import ChainView\nsview = ChainView(stoppable)")
    assert reply["status"] == "ok", reply
    interrupted: list[float] = []

    def on_msg(msg: dict[str, Any]) -> None:
        if msg["msg_type"] != "comm_msg":
            return
        state = msg["content"]["data"].get("state", {})
        lanes = {lane["id"]: lane for lane in state.get("snapshot", {}).get("lanes", [])}
        if not interrupted and lanes.get("quick", {}).get("status") == "done":
            interrupted.append(time.monotonic())
            manager.interrupt_kernel()

    seen, reply = collect(client, "sview.run({'topic': 'rivers'})", on_msg, timeout=60)
    assert interrupted, "the quick branch never finished"
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
    assert seen[-1][0] - interrupted[0] < 10  # the slow branch (≥ 12 s) did not run on
    final = snapshots(seen)[-1][1]
    assert final["status"] == "cancelled"
    lanes = {lane["id"]: lane for lane in final["lanes"]}
    assert lanes["quick"]["status"] == "done" and lanes["quick"]["text"]
    assert lanes["slow"]["status"] == "cancelled"
    reply = execute(client, "assert sview.trace.status == 'cancelled', sview.trace")
    assert reply["status"] == "ok", reply


@pytest.mark.slow
def test_a_saved_notebook_keeps_a_picture_of_the_last_run(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(SETUP.replace("latency_scale=1.0", "latency_scale=0.1")),
        nbformat.v4.new_code_cell("view = chainviz.show(chain)\nview"),
        nbformat.v4.new_code_cell("view.run({'topic': 'bear'});"),
        nbformat.v4.new_code_cell("chainviz.show(view.trace)"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     store_widget_state=True)
    old = dict(os.environ)
    os.environ.update(kernel_env())
    try:
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    view_outputs = nb.cells[1].outputs
    assert len(view_outputs) == 1  # displayed once, although the cell ends with `view`
    data = view_outputs[0]["data"]
    assert "speedup" in data["text/plain"] and "speedup" in data["image/svg+xml"]
    assert "✓ joke" in data["text/plain"]
    saved = nb.cells[3].outputs
    assert len(saved) == 1 and "speedup" in saved[0]["data"]["text/plain"]
    assert "application/vnd.jupyter.widget-state+json" in nb.metadata.get("widgets", {})

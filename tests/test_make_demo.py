"""``make demo`` starts JupyterLab on the demo notebook.

This runs the real Makefile target, as a person would, and checks over HTTP
that the server is up and serves the notebook. It relies on the target adding
``--allow-root`` by itself when run as root (CI is root), and on ``.venv``
being installed already, as it is under ``make test``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "notebooks/01_parallelize_steps.ipynb"
STARTUP_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def venv_is_current() -> bool:
    stamp = REPO / ".venv" / ".stamp-all"
    pyproject = REPO / "pyproject.toml"
    return stamp.exists() and stamp.stat().st_mtime >= pyproject.stat().st_mtime


def get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read()


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop make and the JupyterLab it started: they share one process group."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def test_make_demo_serves_the_notebook(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    if not venv_is_current():
        pytest.skip("run `make venv` first: this test must not build .venv itself")
    assert (REPO / NOTEBOOK).is_file(), f"{NOTEBOOK} is missing"

    port, token = free_port(), secrets.token_hex(16)
    demo_args = " ".join(
        [
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            "--LabApp.extension_manager=readonly",
        ]
    )
    env = dict(os.environ)
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):  # independent of an outer `make test`
        env.pop(name, None)
    for name, sub in (
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTERLAB_SETTINGS_DIR", "settings"),
        ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
    ):
        (tmp_path / sub).mkdir()
        env[name] = str(tmp_path / sub)

    log_path = tmp_path / "make-demo.log"
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            ["make", "demo", f"DEMO_ARGS={demo_args}"],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def log_tail() -> str:
            return log_path.read_text(errors="replace")[-4000:]

        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"make demo exited with {proc.returncode}:\n{log_tail()}")
            try:
                status, _ = get(f"{base}/api/status?token={token}", timeout=2.0)
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"JupyterLab did not answer within {STARTUP_TIMEOUT:.0f} s:\n{log_tail()}"
                )
            time.sleep(0.5)

        status, body = get(f"{base}/api/contents/{NOTEBOOK}?token={token}")
        assert status == 200
        model = json.loads(body)
        assert model["type"] == "notebook"
        assert model["path"] == NOTEBOOK
        assert model["content"]["nbformat"] == 4
        assert model["content"]["cells"], "the demo notebook has no cells"

        status, page = get(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
        assert status == 200
        assert b"jupyter-config-data" in page  # the JupyterLab page, not an error page

        if os.geteuid() == 0:
            assert "--allow-root" in log_tail()
    finally:
        stop_group(proc)

"""The app under uvicorn in a subprocess on a free port, as in production and in
tests/integration/conftest.py, on the database this process points at."""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.database import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(log: Path | None = None) -> Iterator[str]:
    """The base URL of a ready server, stopped on the way out; its stderr (the errors it
    logs) goes to `log` when given, else to ours."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "plateforme.asgi:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1", "--log-level", "warning"]
    # As `python -m plateforme serve` runs it in production.
    command += ["--ws-per-message-deflate", "false"]
    with contextlib.ExitStack() as stack:
        stderr = stack.enter_context(log.open("w")) if log is not None else None
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, "PORT": str(port)}, stderr=stderr
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(process, base_url)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def errors_logged(log: Path) -> dict[str, int]:
    """How many times each exception class ends a traceback in the server's log."""
    found: Counter[str] = Counter()
    for line in log.read_text(errors="replace").splitlines():
        match = _EXCEPTION.match(line)
        if match:
            found[match.group(1)] += 1
    return dict(found.most_common())


_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception))(?::|$)")


def _wait_ready(process: subprocess.Popen[bytes], base_url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become ready in 30 s")


def description() -> str:
    """What uvicorn's "auto" loop and HTTP parser pick in this virtualenv."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"uvicorn {importlib.metadata.version('uvicorn')}, 1 worker, {loop} loop, {http} parser"

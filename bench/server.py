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
def running(log: Path | None = None, workers: int = 1) -> Iterator[str]:
    """The base URL of a ready server, stopped on the way out; its stderr (the errors it
    logs) goes to `log` when given, else to ours. With several `workers`, uvicorn's
    supervisor shares the socket between that many processes, as in production."""
    port = free_port()
    # As production runs it (its uvicorn settings, and the listening socket of several
    # workers made TCP_NODELAY); the log level is the settings', WARNING (bench.database).
    command = [sys.executable, "-m", "plateforme", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
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


def description(workers: str = "1 worker") -> str:
    """What uvicorn's "auto" loop and HTTP parser pick in this virtualenv."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    version = importlib.metadata.version("uvicorn")
    return f"uvicorn {version}, {workers}, {loop} loop, {http} parser"

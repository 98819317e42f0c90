"""A real server for integration tests: uvicorn in a subprocess, on 127.0.0.1.

The app runs in its own process and event loop, as in production; the tests
talk HTTP to it with httpx and build their rows through Piccolo on the same
database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    extra_env: dict[str, str] | None = None, workers: int = 1
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PORT": str(port), **(extra_env or {})}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "plateforme.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/ready", timeout=1).status_code == 200:
                return process, base_url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not become ready in 30 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    process, base_url = start_server()
    yield base_url
    stop_server(process)


@pytest.fixture
async def client(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        yield http


@dataclass
class Browser:
    """An httpx client that behaves like a browser on the HTML forms (cookies, CSRF field)."""

    http: httpx.AsyncClient

    async def csrf(self) -> str:
        token = self.http.cookies.get("rdv_csrf")
        if token is None:
            await self.http.get("/connexion")
            token = self.http.cookies.get("rdv_csrf")
        assert token, "no CSRF cookie"
        return token

    async def post_form(
        self, url: str, data: dict[str, Any] | list[tuple[str, Any]]
    ) -> httpx.Response:
        token = await self.csrf()
        items = list(data.items()) if isinstance(data, dict) else list(data)
        fields: dict[str, list[str]] = {"_csrf_token": [token]}
        for name, value in items:
            fields.setdefault(name, []).extend(value if isinstance(value, list) else [str(value)])
        return await self.http.post(url, data=fields)

    async def post_json(self, url: str, body: Any = None) -> httpx.Response:
        """A JSON call of the agents' API, with the CSRF header the pages' scripts send."""
        token = await self.csrf()
        return await self.http.post(url, json=body, headers={"x-csrftoken": token})

    async def sign_in(self, email: str, password: str = "mot de passe solide") -> httpx.Response:
        return await self.post_form("/connexion", {"email": email, "mot_de_passe": password})


@pytest.fixture
async def browser(server: str) -> AsyncIterator[Browser]:
    async with httpx.AsyncClient(base_url=server, timeout=30) as http:
        yield Browser(http)


@pytest.fixture
async def new_browser(server: str) -> AsyncIterator[Any]:
    """Several independent browsers in one test, each with its own cookies."""
    clients: list[httpx.AsyncClient] = []

    def make() -> Browser:
        http = httpx.AsyncClient(base_url=server, timeout=30)
        clients.append(http)
        return Browser(http)

    yield make
    for http in clients:
        await http.aclose()

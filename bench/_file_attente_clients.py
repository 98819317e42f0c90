"""The client side of bench/file_attente.py, in processes of their own so that it does not
share the server's CPU time slices: waiting-room screens (real `websockets` clients), the
bare `websockets` server that gives the floor of a fan-out, and a small HTTP/1.1 client.

    python -m bench._file_attente_clients screens SPEC.json   # one process of screens
    python -m bench._file_attente_clients floor SPEC.json     # the bare websockets server

Nothing of the app is imported here. Times are `time.monotonic_ns()`: CLOCK_MONOTONIC on
Linux, one clock for every process of the machine, so that a screen's time of receipt
compares with the benchmark process's time of sending.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

# The type of event whose receipt the screens report to the benchmark process; the
# others are only counted (and checked for their site).
APPELE = "ticket.appele"


def now() -> int:
    return time.monotonic_ns()


def raise_open_files(wanted: int = 65536) -> int:
    """Raise the soft limit of open files towards the hard one; the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


# Less than uvicorn's default keep-alive timeout of 5 s.
IDLE_SECONDS = 4.0
# An answer that takes longer is counted as an error.
REQUEST_TIMEOUT = 120.0


class HttpError(Exception):
    """The connection failed or closed in the middle of an exchange."""


class Http:
    """One kept-alive HTTP/1.1 connection, one request at a time: a few microseconds of
    client work per request where httpx takes about a millisecond, so that 200 clients in
    one process measure the server and not themselves."""

    def __init__(self, host: str, port: int, headers: dict[str, str] | None = None) -> None:
        self.host = host
        self.port = port
        self.headers = dict(headers or {})
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._last = 0.0

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        # uvicorn closes a connection idle for 5 s (--timeout-keep-alive): open a new one
        # first rather than send on a socket it may be closing, as browsers do.
        if self._writer is not None and time.monotonic() - self._last > IDLE_SECONDS:
            await self.close()
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in {**self.headers, **(headers or {})}.items()]
        data = b""
        if method != "GET":
            data = b"" if body is None else json.dumps(body).encode()
            if body is not None:
                lines.append("Content-Type: application/json")
            lines.append(f"Content-Length: {len(data)}")
        try:
            self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)
            async with asyncio.timeout(REQUEST_TIMEOUT):
                return await self._answer()
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
        ) as error:
            await self.close()
            raise HttpError(f"{type(error).__name__}: {error}") from error

    async def _answer(self) -> tuple[int, bytes]:
        assert self._reader is not None
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        found: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            found[name.strip().lower()] = value.strip()
        if "content-length" in found:
            content = await self._reader.readexactly(int(found["content-length"]))
        elif found.get("transfer-encoding", "").lower() == "chunked":
            content = await self._chunked()
        elif status in (204, 304) or status < 200:
            content = b""
        else:
            content = await self._reader.read()
            found["connection"] = "close"
        self._last = time.monotonic()
        if found.get("connection", "").lower() == "close":
            await self.close()
        return status, content

    async def _chunked(self) -> bytes:
        assert self._reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass


# --- the screens -------------------------------------------------------------------------


class Screens:
    """This process's share of the screens, on the app and on the floor server.

    Each screen connects with its device token, waits for the first message (the state),
    then reads until told to stop, sends `{"type": "ping"}` every `ping_seconds` (first
    one at a random moment), reports to the benchmark process the receipt of every
    `ticket.appele` it is asked about, and counts every message by type, with those that
    name another site than its own."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.worker = int(spec["worker"])
        self.control: asyncio.StreamWriter | None = None
        self.sockets: list[tuple[str, int, int, Any]] = []  # kind, screen, site, connection
        self.stopping = False
        self.types: dict[str, Counter[str]] = {"app": Counter(), "floor": Counter()}
        self.wrong_site: dict[str, int] = {"app": 0, "floor": 0}
        self.wrong_examples: list[dict[str, Any]] = []
        self.closed_early: Counter[str] = Counter()
        self.close_codes: Counter[str] = Counter()
        self.errors: list[str] = []
        self.report_prefixes: tuple[str, ...] = tuple(spec["report_prefixes"])

    def send(self, message: dict[str, Any]) -> None:
        assert self.control is not None
        self.control.write(json.dumps(message).encode() + b"\n")

    async def run(self) -> None:
        reader, self.control = await asyncio.open_unix_connection(self.spec["control"])
        self.send({"t": "hello", "worker": self.worker})
        started = now()
        gate = asyncio.Semaphore(int(self.spec["connect_at_once"]))
        first_state: list[float] = []
        for kind, url in (("app", self.spec["app_url"]), ("floor", self.spec["floor_url"])):
            jobs = [
                self._open(kind, url, s["screen"], s["site"], s["token"], gate, first_state)
                for s in self.spec["screens"]
            ]
            await asyncio.gather(*jobs)
        self.send(
            {
                "t": "ready",
                "worker": self.worker,
                "app": sum(1 for s in self.sockets if s[0] == "app"),
                "floor": sum(1 for s in self.sockets if s[0] == "floor"),
                "errors": self.errors[:5],
                "error_count": len(self.errors),
                "seconds": (now() - started) / 1e9,
                "first_state_ms": sorted(first_state),
            }
        )
        readers = [asyncio.create_task(self._read(*s)) for s in self.sockets]
        pings = [asyncio.create_task(self._ping(s[3])) for s in self.sockets]
        while True:
            line = await reader.readline()
            if not line or json.loads(line).get("t") == "stop":
                break
        self.stopping = True
        for task in pings:
            task.cancel()
        await asyncio.gather(*(s[3].close() for s in self.sockets), return_exceptions=True)
        await asyncio.gather(*readers, return_exceptions=True)
        self.send(
            {
                "t": "done",
                "worker": self.worker,
                "types": {k: dict(v) for k, v in self.types.items()},
                "wrong_site": self.wrong_site,
                "wrong_examples": self.wrong_examples[:5],
                "closed_early": dict(self.closed_early),
                "close_codes": dict(self.close_codes),
            }
        )
        await self.control.drain()

    async def _open(
        self,
        kind: str,
        url: str,
        screen: int,
        site: int,
        token: str,
        gate: asyncio.Semaphore,
        first_state: list[float],
    ) -> None:
        from websockets.asyncio.client import connect

        async with gate:
            started = now()
            try:
                connection = await connect(
                    url,
                    additional_headers={"Authorization": f"Bearer {token}"},
                    open_timeout=120,
                    compression=None if self.spec.get("no_compression") else "deflate",
                )
                first = json.loads(await asyncio.wait_for(connection.recv(), 120))
            except Exception as error:  # noqa: BLE001 - counted and reported
                self.errors.append(f"{kind} screen {screen}: {type(error).__name__}: {error}")
                return
            if first.get("type") != "etat" or first.get("site") != site:
                self.errors.append(f"{kind} screen {screen}: first message {str(first)[:80]}")
            if kind == "app":
                first_state.append(round((now() - started) / 1e6, 2))
            self.sockets.append((kind, screen, site, connection))

    async def _read(self, kind: str, screen: int, site: int, connection: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in connection:
                at = now()
                message = json.loads(raw)
                type_ = str(message.get("type"))
                self.types[kind][type_] += 1
                if "site" in message and message["site"] != site:
                    self.wrong_site[kind] += 1
                    self.wrong_examples.append({"kind": kind, "screen": screen, **message})
                if type_ == APPELE and (
                    kind == "floor"
                    or str(message.get("ticket", "")).startswith(self.report_prefixes)
                ):
                    self.send(
                        {
                            "t": "r",
                            "k": kind,
                            "s": screen,
                            "site": message.get("site"),
                            "ticket": message.get("ticket"),
                            "at": at,
                        }
                    )
        except ConnectionClosed:
            pass
        if not self.stopping:
            self.closed_early[kind] += 1
            code = connection.close_code
            self.close_codes[f"{kind} {code}"] += 1

    async def _ping(self, connection: Any) -> None:
        period = float(self.spec["ping_seconds"])
        await asyncio.sleep(random.uniform(0, period))
        try:
            while True:
                await connection.send('{"type":"ping"}')
                await asyncio.sleep(period)
        except Exception:  # noqa: BLE001 - a closed socket ends its pings
            return


# --- the floor: a bare websockets server ------------------------------------------------


async def floor(spec: dict[str, Any]) -> None:
    """Screens connect with their token (`Authorization: Bearer`), get a small state, are
    answered `pong` to their pings; a message on `/trigger` (`{"site": s, "ticket": t}`)
    goes to the sockets of site s with `websockets.broadcast`, as an event of the size of
    the app's."""
    from websockets.asyncio.server import ServerConnection, broadcast, serve
    from websockets.exceptions import ConnectionClosed

    tokens: dict[str, int] = spec["tokens"]
    sites: dict[int, set[ServerConnection]] = defaultdict(set)

    async def handler(connection: ServerConnection) -> None:
        assert connection.request is not None
        if connection.request.path == "/trigger":
            async for raw in connection:
                message = json.loads(raw)
                event = {
                    "type": APPELE,
                    "file": message["file"],
                    "ticket": message["ticket"],
                    "guichet": "1",
                    "site": message["site"],
                    "at": "2026-11-23T16:00:00.000000+00:00",
                    "en_attente": {str(message["file"]): 0},
                }
                broadcast(sites.get(message["site"], set()), json.dumps(event))
            return
        header = connection.request.headers.get("Authorization", "")
        site = tokens.get(header[7:].strip()) if header.lower().startswith("bearer ") else None
        if site is None:
            await connection.close(4401, "appareil_inconnu")
            return
        sites[site].add(connection)
        try:
            await connection.send(json.dumps({"type": "etat", "site": site, "files": []}))
            async for raw in connection:
                if json.loads(raw).get("type") == "ping":
                    await connection.send('{"type":"pong"}')
        except ConnectionClosed:
            pass
        finally:
            sites[site].discard(connection)

    async with serve(
        handler,
        "127.0.0.1",
        int(spec["port"]),
        compression=None if spec.get("no_compression") else "deflate",
    ):
        await asyncio.Event().wait()


def main(argv: list[str]) -> None:
    what, spec_path = argv
    spec = json.loads(Path(spec_path).read_text())
    raise_open_files()
    if what == "screens":
        asyncio.run(Screens(spec).run())
    elif what == "floor":
        asyncio.run(floor(spec))
    else:
        raise SystemExit(f"unknown role {what}")


if __name__ == "__main__":
    main(sys.argv[1:])

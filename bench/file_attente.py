"""Walk-in queues live: the time from a counter's call to the waiting-room screens with 1,200
screens connected to one worker (against a bare websockets server), the queue API under 200
concurrent clients, and the server's memory with the screens connected.

Run by `python -m bench` in one process per engine (`--only file_attente` for this one):
`python -m bench.file_attente --database-url URL --calls N --runs R --output FILE`
loads the demo into the (empty) database at URL, adds queues, counters, agents, kiosks and
screens, starts the app under uvicorn (one worker), connects the screens from processes of
their own (bench/_file_attente_clients.py), measures, and writes the figures to FILE as
JSON. Each run has N // 12 calls to the screens (and as many triggers to the floor), then
N // 100 requests of each queue operation by one client alone, the 200 clients paced for
N / 125 s and at once for N / 170 s. With the defaults (500, 5) it takes about 3 minutes
per engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import database, machine, runner, server
from bench._file_attente_clients import Http, HttpError, now, raise_open_files
from bench.runner import Target
from bench.stats import Figures, Run

TITLE = "Walk-in queues: call to screen, the queue API under load, memory"

SITES = 600
SCREENS_PER_SITE = 2
SCREEN_PROCESSES = 4
CONNECT_AT_ONCE = 25  # per screen process
PING_SECONDS = 30
RECEIPT_TIMEOUT = 5.0
GAP_SECONDS = 0.02  # between two measured calls
LOAD_SITES = 50
KIOSK_CLIENTS = 50  # one per load site
COUNTER_CLIENTS = 50  # one per load site, each its own agent at its own counter
READER_CLIENTS = 100
CLIENTS = KIOSK_CLIENTS + COUNTER_CLIENTS + READER_CLIENTS
PACED_THINK = 5.0  # seconds, the mean think time of the paced phase
# On PostgreSQL the queue operations run again with this many uvicorn workers.
WORKERS = 2
SEED = 2026
HAUTE_GARONNE = "Conseil départemental de la Haute-Garonne"
PASSWORD = "mot de passe du banc d'essai"
ALL_DAY = {
    jour: [["00:00", "23:59"]]
    for jour in ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
}

CALL_TARGET = Target("p99", 50.0)
OPS_MEDIAN = Target("median", 20.0)
OPS_P99 = Target("p99", 100.0)
MEMORY_TARGET_MB = 300.0
THE_Q = (
    "Service BC's The Q (bcgov/queue-management) published 3.4 s median and 17.9 s p99 at 200 users"
)

OPERATIONS = {
    "issue": "ticket issue, `POST /api/borne/tickets`",
    "call": "call next, `POST /api/guichets/{g}/appeler-suivant`",
    "end": "end, `POST /api/guichets/{g}/tickets/{t}/terminer`",
    "files": "site state, `GET /api/sites/{s}/files`",
    "ticket": "ticket state, `GET /api/tickets/{jeton}`",
}

ABOUT = """\
The demo's Haute-Garonne gets, at {sites} of its sites offering `social`, a walk-in queue
(prefix A) open at every hour, a counter, a kiosk and {per_site} waiting-room screens, each
device paired as `tests/factories.py` does (an `Appareil` row with the hash of its token);
{load_sites} of those sites also get a second queue (prefix B, a service of its own) and a
second counter for the load. uvicorn serves the app in its own process with **one worker**
(as `make run`), `BORNE_TICKETS_PAR_MINUTE` raised so that the load's kiosks are not
rate-limited (the check still runs). The clients run in other processes: {processes}
processes of screens, each on one asyncio loop with real `websockets` clients
(permessage-deflate, as browsers negotiate it), and the benchmark process for the HTTP
clients (a minimal HTTP/1.1 client on asyncio streams, one kept-alive connection each,
reopened after 4 s idle since uvicorn closes them at 5 s: microseconds of client work per
request where httpx takes about a millisecond). Every screen connects to `/ws/appareil`
with its token in `Authorization: Bearer`, waits for its state, then sends `{{"type":
"ping"}}` every {ping} s (the first at a random moment: {pings_per_s:.0f} a second, each a
possible heartbeat write) and reads until the end. **The machine has 2 cores shared by the
server, the database, the client processes and whatever else runs there (other
engineers' test suites and browsers did during these runs): every figure is a median over
{runs} runs, and the CPU the server and the machine used is given with the load.**

**Call to screen.** The screen processes also hold {screens:,} connections to a bare
`websockets` server (`websockets.asyncio.server.serve`, one process, one asyncio loop, a
token → site table, `pong` to pings) where a message on `/trigger` goes with
`websockets.broadcast` to the two sockets of a site: the floor of a fan-out on this machine
with the same clients. After {warm_up} warm-up calls, each run has {calls} calls at
{calls} sites (a different site for every call of the whole benchmark while there are
sites left), one after the other: a kiosk ticket at the site's queue A and an admin agent
opening the site's counter 1 beforehand (not measured), then the time from just before
sending `POST /api/guichets/{{g}}/appeler-suivant` until each of the site's two screens
(in two different processes) has received the `ticket.appele` event (CLOCK_MONOTONIC, one
clock for every process), then the counter ends the ticket (not measured); each call is
paired with a trigger to the floor for the same site, the two in alternate order. Also
recorded: the HTTP answer and the first of the two screens. Every event any screen
receives is checked for its site, and every receipt of a measured call for its screen.

**Queue operations.** The {clients} clients, on {load_sites} sites: {kiosks} kiosks
(one per site) taking tickets in queue B, {counters} counters (one per site, each its own
agent signed in through `/connexion`, the counter opened beforehand for queue B) calling
the next ticket then ending it, and {readers} readers alternating `GET
/api/sites/{{s}}/files` (a random one of the {load_sites} sites) and `GET
/api/tickets/{{jeton}}` (one of the last 1,000 tickets issued). In each run, three phases
after the calls, the screens still connected (each ticket event also goes to two
screens): **alone**, one client at a time sends {alone} requests of each operation one
after the other (the time of one request when nothing waits); **paced**, the {clients}
clients for {paced_seconds} s, each waiting a think time drawn from an exponential
distribution of mean {think:g} s after each answer, the first within one think time
(about {offered:.0f} requests a second offered once steady, more at first: a busy hour of a
whole département and more); **closed**, the {clients} clients
at once with no think time for {closed_seconds} s, as "{clients} concurrent users" are
usually understood (the latency is then about the number of requests in flight over the
throughput; the first requests of the 200 leave together). In both, every request started
within the phase is counted and waited for. A 409 `personne_en_attente` (nobody waiting
in that counter's queue at that moment) is an expected answer, counted apart. The targets
(median < 20 ms, p99 < 100 ms) are read on the closed phase, and shown for the paced one.
For context: {the_q} (their set-up, think times and machine are not known here).

**Memory**: VmRSS of the server process (`/proc/<pid>/status`) once ready, after the
HTTP warm-up ({agents} sign-ins, counters opened, each operation a few times), with every
screen connected, after the last run, and once the screens have left; VmHWM is its
peak. Note that a sign-in hashes with argon2id (64 MiB per hash), up to 4 at once here."""


FINDINGS = """\
### What dominates, and what could be done

Found by hand on 2026-12-06 (not re-measured by `make bench`), tracing the server of this
benchmark with `gc.callbacks` and a task measuring the event loop's lag every 10 ms:

- **The paced phase's tail was mostly of the benchmark's making.** A counter that was
  thinking when the phase ended sent its "end" at the phase's last instant, and that
  request was counted: about half the 50 counters at once, every run, which made the p95
  of "end" 150 to 250 ms on both engines while the other operations stayed far lower.
  That request is now sent, uncounted, after the phase (the ticket must be ended for the
  next one). The paced phase also lasts 15 s instead of 4, so that its p99 is not the
  second-slowest of 160 requests.
- **Full passes of Python's cycle collector stopped the loop for 60 to 270 ms**, about
  every ten seconds under load, with 1,200 screens' objects in the heap. The app now
  freezes what is alive once started and raises the collector's thresholds
  (`plateforme.app.regler_le_ramasse_miettes`): the longest pass seen was then 51 ms.
- **SQLite**: Piccolo opened a connection and a thread for every transaction and every
  query outside one; the engine now keeps up to 10 open and sends a query in one round
  trip to its thread (`plateforme.db`). Heartbeats (1,200 screens pinging every 30 s)
  were UPDATEs taking the write lock outside the writers' queue; most now stop at the
  process's memory.
- **uvicorn with httptools and uvloop** instead of h11 and asyncio: 14 % more requests a
  second in the closed phase (2 runs each, alternated, SQLite: median 680 and 684 ms
  against 591 and 574 ms), the paced p99 63.4 and 63.8 against 58.0 and 60.8 ms.

Why "200 clients at once, no think time" stays far from median < 20 ms: a closed loop of
200 clients waits on average 200 / throughput. One worker serves about 250 to 350 requests
a second of this mix (about 3 to 4 ms of CPU each, the machine's 2 cores also running the
database and the 1,200 screens' client processes): a median of 20 ms would take 10,000 a
second, dozens of cores. The writes (ticket, call) wait longest there: on SQLite they
queue one after the other for the database's one write lock, while reads go on. The
paced phase (about 45 requests a second offered, a busy hour of a whole département many
times over) is the one within reach, and meets both targets.

What could still be done: cache the signed-in agent's Principal per session for a few
seconds (3 queries on every counter request); bound the concurrent argon2id
verifications of sign-ins (64 MiB each: a burst of sign-ins after a restart sets the
memory peak)."""


# --- the data ------------------------------------------------------------------------------


@dataclass
class Lieu:
    site: int
    file_a: int
    guichet_a: int
    borne: str
    ecrans: list[str]
    file_b: int | None = None
    guichet_b: int | None = None
    agent_b: str | None = None  # e-mail of the load agent of the site


@dataclass
class Setup:
    lieux: list[Lieu]
    admin: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)

    def load_lieux(self) -> list[Lieu]:
        return [lieu for lieu in self.lieux if lieu.file_b is not None]


async def prepare() -> Setup:
    """Queues, counters, devices and agents, inserted in bulk into the demo."""
    from bornes.services.appareils import hacher
    from bornes.tables import Appareil
    from file_attente.tables import FileAttente, Guichet
    from plateforme.passwords import hash_password
    from sites.tables import Agent, AgentSite, Service, Site, SiteService, Territoire

    started = time.monotonic()
    territoire = (
        await Territoire.select(Territoire.id).where(Territoire.nom == HAUTE_GARONNE).first()
    )
    assert territoire is not None
    territoire_id = territoire["id"]
    service = (
        await Service.select(Service.id)
        .where(Service.territoire == territoire_id, Service.code == "social")
        .first()
    )
    assert service is not None
    offering = {
        row["site"]
        for row in await SiteService.select(SiteService.site).where(
            SiteService.service == service["id"]
        )
    }
    in_territoire = await Site.select(Site.id).where(
        Site.territoire == territoire_id, Site.actif.eq(True)
    )
    site_ids = sorted(row["id"] for row in in_territoire if row["id"] in offering)[:SITES]
    if len(site_ids) < SITES:
        raise RuntimeError(f"{len(site_ids)} sites offer social in the demo, {SITES} needed")
    rng = random.Random(SEED)
    load_sites = set(rng.sample(site_ids, LOAD_SITES))
    # Queue B: one queue per service and site, so a service of its own, at the load sites.
    await Service.insert(
        Service(territoire=territoire_id, code="banc-accueil", nom="Accueil (banc d'essai)")
    )
    accueil = (
        await Service.select(Service.id)
        .where(Service.territoire == territoire_id, Service.code == "banc-accueil")
        .first()
    )
    assert accueil is not None
    services = {"A": service["id"], "B": accueil["id"]}

    async def insert(table: Any, rows: list[Any]) -> None:
        for start in range(0, len(rows), 200):
            await table.insert(*rows[start : start + 200])

    await insert(
        FileAttente,
        [
            FileAttente(
                site=s, service=services[prefixe], nom=nom, prefixe=prefixe, horaires=ALL_DAY
            )
            for s in site_ids
            for prefixe, nom in (("A", "Accueil"), ("B", "Accueil social"))
            if prefixe == "A" or s in load_sites
        ],
    )
    await insert(SiteService, [SiteService(site=s, service=accueil["id"]) for s in load_sites])
    await insert(
        Guichet,
        [
            Guichet(site=s, nom=nom)
            for s in site_ids
            for nom in ("1", "2")
            if nom == "1" or s in load_sites
        ],
    )
    tokens: dict[tuple[int, str, int], str] = {}
    appareils = []
    for s in site_ids:
        for kind, number in [("borne", 1)] + [("ecran", n) for n in range(1, SCREENS_PER_SITE + 1)]:
            token = secrets.token_urlsafe(32)
            tokens[(s, kind, number)] = token
            appareils.append(
                Appareil(
                    site=s,
                    kind=kind,
                    nom=f"{'Borne' if kind == 'borne' else 'Écran'} {number}",
                    jeton_hash=hacher(token),
                    appaire_at=_utcnow(),
                )
            )
    await insert(Appareil, appareils)
    password_hash = hash_password(PASSWORD)
    admin = f"banc.admin.{secrets.token_hex(3)}@exemple.fr"
    emails = {s: f"banc.guichet.{s}@exemple.fr" for s in sorted(load_sites)}
    await insert(
        Agent,
        [
            Agent(
                territoire=territoire_id,
                prenom="Banc",
                nom=email.split("@")[0],
                email=email,
                mot_de_passe=password_hash,
                role="admin" if email == admin else "agent",
            )
            for email in [admin, *emails.values()]
        ],
    )
    agent_ids = {
        row["email"]: row["id"]
        for row in await Agent.select(Agent.id, Agent.email).where(
            Agent.email.is_in(list(emails.values()))
        )
    }
    await insert(AgentSite, [AgentSite(agent=agent_ids[e], site=s) for s, e in emails.items()])

    files = {
        (row["site"], row["prefixe"]): row["id"]
        for row in await FileAttente.select(
            FileAttente.id, FileAttente.site, FileAttente.prefixe
        ).where(FileAttente.site.is_in(site_ids))
    }
    guichets = {
        (row["site"], row["nom"]): row["id"]
        for row in await Guichet.select(Guichet.id, Guichet.site, Guichet.nom).where(
            Guichet.site.is_in(site_ids)
        )
    }
    lieux = [
        Lieu(
            site=s,
            file_a=files[(s, "A")],
            guichet_a=guichets[(s, "1")],
            borne=tokens[(s, "borne", 1)],
            ecrans=[tokens[(s, "ecran", n)] for n in range(1, SCREENS_PER_SITE + 1)],
            file_b=files.get((s, "B")),
            guichet_b=guichets.get((s, "2")),
            agent_b=emails.get(s),
        )
        for s in site_ids
    ]
    return Setup(
        lieux=lieux,
        admin=admin,
        seconds=time.monotonic() - started,
        counts={
            "sites": len(site_ids),
            "queues": len(files),
            "counters": len(guichets),
            "screens": len(site_ids) * SCREENS_PER_SITE,
            "kiosks": len(site_ids),
            "agents": len(emails) + 1,
        },
    )


def _utcnow() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


# --- the server process ---------------------------------------------------------------------


def server_pid(port: int) -> int:
    """The uvicorn process (one worker: one process) serving on this port."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv]
        serves = "plateforme.asgi:app" in words or words[1:4] == ["-m", "plateforme", "serve"]
        if serves and str(port) in words:
            return int(entry.name)
    raise RuntimeError(f"no uvicorn process found on port {port}")


def memory_mib(pid: int) -> dict[str, float]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) / 1024
    return found


# --- the screens' side ----------------------------------------------------------------------


class Control:
    """The benchmark process's end of the screen processes: their readiness, the receipts
    of the calls (by kind, site and ticket), their final counts."""

    def __init__(self, path: Path, screen_site: dict[int, int]) -> None:
        self.path = path
        self.screen_site = screen_site
        self.writers: dict[int, asyncio.StreamWriter] = {}
        self.ready: dict[int, dict[str, Any]] = {}
        self.done: dict[int, dict[str, Any]] = {}
        self.receipts: dict[tuple[str, int, str], list[tuple[int, int]]] = defaultdict(list)
        self.complete: dict[tuple[str, int, str], asyncio.Event] = defaultdict(asyncio.Event)
        self.changed = asyncio.Event()
        self._server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> Control:
        self._server = await asyncio.start_unix_server(self._handle, path=str(self.path))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self.writers.values():
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        worker = -1
        while line := await reader.readline():
            message = json.loads(line)
            kind = message["t"]
            if kind == "r":
                key = (message["k"], message["site"], message["ticket"])
                self.receipts[key].append((message["s"], message["at"]))
                own = {s for s, _ in self.receipts[key] if self.screen_site[s] == key[1]}
                if len(own) >= SCREENS_PER_SITE:
                    self.complete[key].set()
            elif kind == "hello":
                worker = message["worker"]
                self.writers[worker] = writer
            elif kind == "ready":
                self.ready[worker] = message
                self.changed.set()
            elif kind == "done":
                self.done[worker] = message
                self.changed.set()

    async def until(self, what: str, count: int, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while len(getattr(self, what)) < count:
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"{len(getattr(self, what))} of {count} screen processes {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)

    async def wait(self, key: tuple[str, int, str]) -> list[tuple[int, int]]:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.complete[key].wait(), RECEIPT_TIMEOUT)
        return self.receipts[key]

    async def stop(self) -> None:
        for writer in self.writers.values():
            writer.write(b'{"t": "stop"}\n')
            await writer.drain()
        await self.until("done", len(self.writers), 120)


@contextlib.asynccontextmanager
async def processes(
    workdir: Path, app_port: int, setup: Setup, control: Control
) -> AsyncIterator[int]:
    """The floor server, then the screen processes; yields the floor's port."""
    floor_port = server.free_port()
    screens = [
        {"screen": i * SCREENS_PER_SITE + n, "site": lieu.site, "token": token}
        for i, lieu in enumerate(setup.lieux)
        for n, token in enumerate(lieu.ecrans)
    ]
    floor_spec = workdir / "floor.json"
    floor_spec.write_text(
        json.dumps({"port": floor_port, "tokens": {s["token"]: s["site"] for s in screens}})
    )
    command = [sys.executable, "-m", "bench._file_attente_clients"]
    started: list[subprocess.Popen[bytes]] = []
    try:
        started.append(_start([*command, "floor", str(floor_spec)]))
        _wait_port(floor_port, started[0])
        for worker in range(SCREEN_PROCESSES):
            spec = workdir / f"screens-{worker}.json"
            spec.write_text(
                json.dumps(
                    {
                        "worker": worker,
                        "control": str(control.path),
                        "app_url": f"ws://127.0.0.1:{app_port}/ws/appareil",
                        "floor_url": f"ws://127.0.0.1:{floor_port}/",
                        # The two screens of a site in two processes.
                        "screens": screens[worker::SCREEN_PROCESSES],
                        "connect_at_once": CONNECT_AT_ONCE,
                        "ping_seconds": PING_SECONDS,
                        "report_prefixes": ["A"],
                    }
                )
            )
            started.append(_start([*command, "screens", str(spec)]))
        yield floor_port
    finally:
        for process in reversed(started):
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _start(command: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, cwd=database.ROOT)


def _wait_port(port: int, process: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the floor server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("the floor server did not listen in 30 s")


# --- agents ----------------------------------------------------------------------------------


async def sign_in(base_url: str, email: str) -> dict[str, str]:
    """The headers of a signed-in agent's JSON calls: the session and CSRF cookies, and the
    CSRF header (as `tests/integration/conftest.py`'s Browser)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        await http.get("/connexion")
        token = http.cookies.get("rdv_csrf")
        assert token, "no CSRF cookie"
        response = await http.post(
            "/connexion",
            data={"_csrf_token": token, "email": email, "mot_de_passe": PASSWORD},
        )
        if response.status_code != 303:
            raise RuntimeError(f"sign-in of {email}: {response.status_code} {response.text[:200]}")
        cookies = "; ".join(f"{c.name}={c.value}" for c in http.cookies.jar)
        return {"Cookie": cookies, "x-csrftoken": http.cookies.get("rdv_csrf") or token}


async def expect(
    client: Http,
    status: int,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Any:
    got, content = await client.request(method, path, body, headers)
    if got != status:
        raise RuntimeError(f"{method} {path}: {got} {content[:300]!r}")
    return json.loads(content) if content else None


# --- call to screen --------------------------------------------------------------------------


@dataclass
class Calls:
    """The samples of the calls to the screens, per run, in nanoseconds."""

    both: list[list[int]] = field(default_factory=list)
    first: list[list[int]] = field(default_factory=list)
    answer: list[list[int]] = field(default_factory=list)
    floor_both: list[list[int]] = field(default_factory=list)
    floor_first: list[list[int]] = field(default_factory=list)
    missed: Counter[str] = field(default_factory=Counter)
    other_site: int = 0  # receipts of a measured call by a screen of another site
    duplicates: int = 0  # a screen receiving the same call twice
    receipts: int = 0
    failures: Counter[str] = field(default_factory=Counter)


async def call_round(
    lieux: list[Lieu],
    admin: Http,
    kiosk: Http,
    trigger: Any,
    control: Control,
    calls: Calls | None,
    numbers: Iterator[int],
) -> None:
    both: list[int] = []
    first: list[int] = []
    answer: list[int] = []
    floor_both: list[int] = []
    floor_first: list[int] = []
    for lieu in lieux:
        await expect(
            kiosk,
            201,
            "POST",
            "/api/borne/tickets",
            {"file": lieu.file_a},
            {"Authorization": f"Bearer {lieu.borne}"},
        )
    for index, lieu in enumerate(lieux):
        await expect(
            admin, 200, "POST", f"/api/guichets/{lieu.guichet_a}/ouvrir", {"files": [lieu.file_a]}
        )
        ticket_id = None
        for kind in ("app", "floor") if index % 2 == 0 else ("floor", "app"):
            start = now()
            if kind == "app":
                status, content = await admin.request(
                    "POST", f"/api/guichets/{lieu.guichet_a}/appeler-suivant"
                )
                answered = now()
                if status != 200:
                    if calls is not None:
                        calls.failures[f"appeler-suivant {status}"] += 1
                    continue
                action = json.loads(content)
                ticket, ticket_id = action["ticket"], action["ticket_id"]
            else:
                ticket = f"F{next(numbers):05d}"
                await trigger.send(
                    json.dumps({"site": lieu.site, "ticket": ticket, "file": lieu.file_a})
                )
            got = await control.wait((kind, lieu.site, ticket))
            if calls is None:
                continue
            calls.receipts += len(got)
            own: dict[int, int] = {}
            for screen, at in got:
                if control.screen_site[screen] != lieu.site:
                    calls.other_site += 1
                elif screen in own:
                    calls.duplicates += 1
                else:
                    own[screen] = at
            if len(own) < SCREENS_PER_SITE:
                calls.missed[kind] += 1
                continue
            if kind == "app":
                both.append(max(own.values()) - start)
                first.append(min(own.values()) - start)
                answer.append(answered - start)
            else:
                floor_both.append(max(own.values()) - start)
                floor_first.append(min(own.values()) - start)
        if ticket_id is not None:
            await expect(
                admin, 200, "POST", f"/api/guichets/{lieu.guichet_a}/tickets/{ticket_id}/terminer"
            )
        await asyncio.sleep(GAP_SECONDS)
    if calls is not None:
        calls.both.append(both)
        calls.first.append(first)
        calls.answer.append(answer)
        calls.floor_both.append(floor_both)
        calls.floor_first.append(floor_first)


# --- the queue API under load ------------------------------------------------------------------


@dataclass
class Load:
    """Per phase and operation: the durations of each run (ns), the answers, the requests a
    second, and the CPU the server process and the machine used."""

    durations: dict[str, dict[str, list[list[int]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    answers: dict[str, dict[str, Counter[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Counter))
    )
    per_second: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server_cpu: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    machine_cpu: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


@dataclass
class Clients:
    kiosks: list[tuple[Http, list[Lieu]]]
    counters: list[tuple[Http, Lieu]]
    readers: list[Http]
    jetons: deque[str]
    load_sites: list[int]

    def all(self) -> list[Http]:
        return [c for c, _ in self.kiosks] + [c for c, _ in self.counters] + self.readers


Done = list[tuple[str, str, int]]  # operation, answer, duration (ns)


class Sender:
    """Sends one request of an operation and records its answer and duration."""

    def __init__(self) -> None:
        self.done: Done = []

    async def __call__(
        self,
        client: Http,
        op: str,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        start = now()
        try:
            status, content = await client.request(method, path, body, headers)
        except HttpError as error:
            self.done.append((op, f"error {str(error)[:60]}", now() - start))
            return -1, b""
        duration = now() - start
        answer = str(status)
        if status == 409:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                answer = f"409 {json.loads(content)['code']}"
        self.done.append((op, answer, duration))
        return status, content


def _kiosk_request(lieu: Lieu) -> tuple[str, str, dict[str, int], dict[str, str]]:
    return "POST", "/api/borne/tickets", {"file": lieu.file_b or 0}, _bearer(lieu)


def _bearer(lieu: Lieu) -> dict[str, str]:
    return {"Authorization": f"Bearer {lieu.borne}"}


async def alone_phase(clients: Clients, count: int) -> Done:
    """One client at a time, one request after the other: `count` of each operation."""
    send = Sender()
    kiosk, (lieu, *_) = clients.kiosks[0]
    counter, counter_lieu = clients.counters[0]
    reader = clients.readers[0]
    for _ in range(count):
        status, content = await send(kiosk, "issue", *_kiosk_request(counter_lieu))
        if status == 201:
            clients.jetons.append(json.loads(content)["jeton"])
    for _ in range(count):
        path = f"/api/guichets/{counter_lieu.guichet_b}"
        status, content = await send(counter, "call", "POST", f"{path}/appeler-suivant")
        if status == 200:
            ticket_id = json.loads(content)["ticket_id"]
            await send(counter, "end", "POST", f"{path}/tickets/{ticket_id}/terminer")
    for _ in range(count):
        await send(reader, "files", "GET", f"/api/sites/{lieu.site}/files")
        await send(reader, "ticket", "GET", f"/api/tickets/{clients.jetons[-1]}")
    return send.done


async def load_phase(
    clients: Clients, seconds: float, think: float, rng: random.Random
) -> tuple[Done, float]:
    """All the clients for `seconds`, each waiting an exponential think time of mean `think`
    after each answer (and first a uniform one, so that they do not start together) or none
    at all; every request started in those seconds is counted, and waited for."""
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + seconds
    send = Sender()

    async def pause(first: bool = False) -> None:
        if think > 0:
            wait = rng.uniform(0, think) if first else rng.expovariate(1 / think)
            # Never past the end of the phase: the next request would not be sent anyway.
            await asyncio.sleep(max(0.0, min(wait, stop_at - loop.time())))

    async def kiosk(client: Http, lieux: list[Lieu]) -> None:
        await pause(first=True)
        turn = 0
        while loop.time() < stop_at:
            lieu = lieux[turn % len(lieux)]
            turn += 1
            status, content = await send(client, "issue", *_kiosk_request(lieu))
            if status == 201:
                clients.jetons.append(json.loads(content)["jeton"])
            await pause()

    async def counter(client: Http, lieu: Lieu) -> None:
        await pause(first=True)
        path = f"/api/guichets/{lieu.guichet_b}"
        while loop.time() < stop_at:
            status, content = await send(client, "call", "POST", f"{path}/appeler-suivant")
            await pause()
            if status == 200:
                ticket_id = json.loads(content)["ticket_id"]
                end = f"{path}/tickets/{ticket_id}/terminer"
                if loop.time() < stop_at:
                    await send(client, "end", "POST", end)
                else:
                    # The phase ended during the think time: the ticket is ended all the
                    # same, for the next phase, but that request starts after this phase
                    # and is not counted. (Counting it made the counters that were
                    # thinking all send "end" at the phase's last instant: a burst of
                    # the benchmark's own making, which was the p95 of "end".)
                    with contextlib.suppress(HttpError):
                        await client.request("POST", end, None, None)
                await pause()

    async def reader(client: Http, turn: int) -> None:
        await pause(first=True)
        while loop.time() < stop_at:
            if turn % 2 == 0:
                site = rng.choice(clients.load_sites)
                await send(client, "files", "GET", f"/api/sites/{site}/files")
            else:
                await send(client, "ticket", "GET", f"/api/tickets/{rng.choice(clients.jetons)}")
            turn += 1
            await pause()

    await asyncio.gather(
        *(kiosk(c, lieux) for c, lieux in clients.kiosks),
        *(counter(c, lieu) for c, lieu in clients.counters),
        *(reader(c, i) for i, c in enumerate(clients.readers)),
    )
    return send.done, seconds


def cpu_seconds(pid: int | list[int]) -> float:
    """User and system CPU time of a process (all its threads), or of several, in seconds."""
    if isinstance(pid, list):
        return sum(cpu_seconds(p) for p in pid)
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_pids(supervisor: int) -> list[int]:
    """The processes uvicorn's supervisor started (its workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[1]) == supervisor:
                    found.append(int(entry.name))
    return sorted(found)


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the machine, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(values[:8])
    return total - values[3] - values[4], total


@contextlib.contextmanager
def cpu_used(pid: int | list[int], load: Load, phase: str) -> Iterator[None]:
    """Records the server process's CPU (% of one core; of its workers together) and the
    machine's (% of all its cores) over the block."""
    cpu, (busy, total), started = cpu_seconds(pid), machine_ticks(), time.monotonic()
    yield
    elapsed = time.monotonic() - started
    busy_after, total_after = machine_ticks()
    load.server_cpu[phase].append(100 * (cpu_seconds(pid) - cpu) / elapsed)
    load.machine_cpu[phase].append(100 * (busy_after - busy) / max(1, total_after - total))


def record_phase(load: Load, phase: str, done: Done, seconds: float) -> None:
    by_op: dict[str, list[int]] = defaultdict(list)
    for op, answer, duration in done:
        by_op[op].append(duration)
        by_op["all"].append(duration)
        load.answers[phase][op][answer] += 1
    for op, durations in by_op.items():
        load.durations[phase][op].append(durations)
    load.per_second[phase].append(len(done) / seconds)


async def open_clients(base_url: str, setup: Setup, log: list[str]) -> tuple[Http, Clients]:
    """The admin's client, and the 200 clients with their agents signed in and counters
    open."""
    host, port = "127.0.0.1", int(base_url.rsplit(":", 1)[1])
    started = time.monotonic()
    lieux = setup.load_lieux()
    gate = asyncio.Semaphore(4)

    async def signed(email: str) -> dict[str, str]:
        async with gate:
            return await sign_in(base_url, email)

    emails = [setup.admin] + [lieu.agent_b or "" for lieu in lieux]
    headers = await asyncio.gather(*(signed(e) for e in emails))
    admin = Http(host, port, headers[0])
    counters = [(Http(host, port, h), lieu) for h, lieu in zip(headers[1:], lieux, strict=True)]
    for client, lieu in counters:
        await expect(
            client, 200, "POST", f"/api/guichets/{lieu.guichet_b}/ouvrir", {"files": [lieu.file_b]}
        )
    kiosks = [(Http(host, port), [lieu]) for lieu in lieux[:KIOSK_CLIENTS]]
    clients = Clients(
        kiosks=kiosks,
        counters=counters,
        readers=[Http(host, port) for _ in range(READER_CLIENTS)],
        jetons=deque(maxlen=1000),
        load_sites=[lieu.site for lieu in lieux],
    )
    # A few tickets waiting in every load queue, and jetons for the readers.
    for client, pair in kiosks:
        for lieu in pair:
            for _ in range(5):
                issued = await expect(
                    client,
                    201,
                    "POST",
                    "/api/borne/tickets",
                    {"file": lieu.file_b},
                    {"Authorization": f"Bearer {lieu.borne}"},
                )
                clients.jetons.append(issued["jeton"])
    log.append(
        f"{len(emails)} agents signed in, {len(counters)} counters open and"
        f" {len(clients.jetons)} tickets issued in {time.monotonic() - started:.1f} s"
    )
    return admin, clients


# --- the whole -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How much of each part a run holds, from `--calls`."""

    calls: int  # calls to the screens (and to the floor) per run
    warm_up: int  # calls before the runs
    alone: int  # requests of each operation by one client alone per run
    paced_seconds: float
    closed_seconds: float

    @classmethod
    def of(cls, calls: int) -> Plan:
        per_run = max(10, calls // 12)
        return cls(
            calls=per_run,
            warm_up=max(5, per_run // 4),
            alone=max(3, calls // 100),
            paced_seconds=max(5.0, round(calls / 33, 1)),
            closed_seconds=max(2.0, round(calls / 170, 1)),
        )


def _progress(label: str, message: str) -> None:
    print(f"[{label}] {message}", file=sys.stderr, flush=True)


async def bench(calls: int, runs: int) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    from plateforme import db
    from plateforme.settings import get_settings

    plan = Plan.of(calls)
    load_before = machine.load_average()
    open_files = raise_open_files()  # inherited by the server and the client processes
    os.environ["BORNE_TICKETS_PAR_MINUTE"] = "1000000"
    with contextlib.redirect_stdout(io.StringIO()):
        rows = await database.load_demo()
    await db.start(get_settings())
    try:
        engine = await runner.engine_version()
        setup = await prepare()
    finally:
        await db.stop()
    label = f"{engine.split()[0]} file_attente"
    _progress(label, f"{setup.counts} added in {setup.seconds:.1f} s")
    screen_site = {
        i * SCREENS_PER_SITE + n: lieu.site
        for i, lieu in enumerate(setup.lieux)
        for n in range(SCREENS_PER_SITE)
    }
    order = list(setup.lieux)
    random.Random(SEED + 1).shuffle(order)

    def sites_for(round_number: int) -> list[Lieu]:
        """The sites of a round of calls: the warm-up's (-1), then each run's."""
        count = plan.warm_up if round_number < 0 else plan.calls
        start = 0 if round_number < 0 else plan.warm_up + round_number * plan.calls
        return [order[(start + k) % len(order)] for k in range(count)]

    workdir = Path(tempfile.mkdtemp(prefix="rdv-bench-file-"))
    log = workdir / "server.log"
    memory: dict[str, dict[str, float]] = {}
    calls_result = Calls()
    load = Load()
    rng = random.Random(SEED + 2)
    numbers = iter(range(10**7))
    try:
        with server.running(log) as base_url:
            port = int(base_url.rsplit(":", 1)[1])
            pid = server_pid(port)
            memory["ready"] = memory_mib(pid)
            progress: list[str] = []
            admin, clients = await open_clients(base_url, setup, progress)
            _progress(label, progress[-1])
            kiosk = Http("127.0.0.1", port)
            # HTTP warm-up: every route of the benchmark, no screen yet.
            await alone_phase(clients, 3)
            await load_phase(clients, 2.0, 0.0, rng)
            memory["warm"] = memory_mib(pid)
            async with Control(workdir / "control.sock", screen_site) as control:
                async with processes(workdir, port, setup, control) as floor_port:
                    started = time.monotonic()
                    await control.until("ready", SCREEN_PROCESSES, 600)
                    connect_seconds = time.monotonic() - started
                    ready = list(control.ready.values())
                    _progress(
                        label,
                        f"{sum(r['app'] for r in ready)} screens on the app and"
                        f" {sum(r['floor'] for r in ready)} on the floor in"
                        f" {connect_seconds:.1f} s",
                    )
                    await asyncio.sleep(2)
                    memory["connected"] = memory_mib(pid)
                    async with connect(f"ws://127.0.0.1:{floor_port}/trigger") as trigger:
                        await call_round(
                            sites_for(-1), admin, kiosk, trigger, control, None, numbers
                        )
                        await load_phase(clients, 1.0, 0.0, rng)
                        measured = time.monotonic()
                        for number in range(runs):
                            with cpu_used(pid, load, "calls"):
                                await call_round(
                                    sites_for(number),
                                    admin,
                                    kiosk,
                                    trigger,
                                    control,
                                    calls_result,
                                    numbers,
                                )
                            with cpu_used(pid, load, "alone"):
                                started = time.monotonic()
                                done = await alone_phase(clients, plan.alone)
                                took = time.monotonic() - started
                            record_phase(load, "alone", done, took)
                            with cpu_used(pid, load, "paced"):
                                done, took = await load_phase(
                                    clients, plan.paced_seconds, PACED_THINK, rng
                                )
                            record_phase(load, "paced", done, took)
                            with cpu_used(pid, load, "closed"):
                                done, took = await load_phase(
                                    clients, plan.closed_seconds, 0.0, rng
                                )
                            record_phase(load, "closed", done, took)
                            _progress(label, f"run {number + 1}/{runs} done")
                        seconds = time.monotonic() - measured
                    memory["after"] = memory_mib(pid)
                    await control.stop()
                    await asyncio.sleep(2)
                    memory["left"] = memory_mib(pid)
            for client in [admin, kiosk, *clients.all()]:
                await client.close()
        server_errors = server.errors_logged(log)
        excerpt = _first_traceback(log) if server_errors else ""
        workers_load: Load | None = None
        workers_errors: dict[str, int] = {}
        if get_settings().is_postgres:
            workers_load, workers_errors = await load_with_workers(
                setup, plan, runs, rng, workdir, screen_site, label
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "engine": engine,
        "rows": rows,
        "setup": setup.counts,
        "prepared_seconds": setup.seconds,
        "server": server.description(
            f"1 worker (and {WORKERS} for the queue operations)"
            if get_settings().is_postgres
            else "1 worker"
        ),
        "seconds": seconds,
        "open_files": open_files,
        "plan": vars(plan),
        "connect": connect_summary(ready, connect_seconds),
        "calls": calls_summary(calls_result),
        "screens": screens_summary(control.done.values()),
        "load": load_summary(load),
        "calls_cpu": {
            "server": statistics.median(load.server_cpu["calls"]),
            "machine": statistics.median(load.machine_cpu["calls"]),
        },
        "load_average": [load_before, machine.load_average()],
        "memory": memory,
        "server_errors": server_errors,
        "server_error_excerpt": excerpt,
        "workers": WORKERS if workers_load is not None else None,
        "load_workers": load_summary(workers_load) if workers_load is not None else None,
        "server_errors_workers": workers_errors,
    }


async def load_with_workers(
    setup: Setup,
    plan: Plan,
    runs: int,
    rng: random.Random,
    workdir: Path,
    screen_site: dict[int, int],
    label: str,
) -> tuple[Load, dict[str, int]]:
    """The queue operations (alone, paced, closed) again on WORKERS uvicorn workers, as
    production runs on PostgreSQL, the screens connected as before; no calls measured."""
    log = workdir / f"server-{WORKERS}-workers.log"
    load = Load()
    with server.running(log, workers=WORKERS) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        progress: list[str] = []
        admin, clients = await open_clients(base_url, setup, progress)
        pids = worker_pids(server_pid(port))
        _progress(label, f"{WORKERS} workers ({pids}): {progress[-1]}")
        await alone_phase(clients, 3)
        await load_phase(clients, 2.0, 0.0, rng)
        screens = workdir / f"{WORKERS}-workers"
        screens.mkdir()
        async with Control(screens / "control.sock", screen_site) as control:
            async with processes(screens, port, setup, control):
                await control.until("ready", SCREEN_PROCESSES, 600)
                await asyncio.sleep(2)
                await load_phase(clients, 1.0, 0.0, rng)
                for number in range(runs):
                    with cpu_used(pids, load, "alone"):
                        started = time.monotonic()
                        done = await alone_phase(clients, plan.alone)
                        took = time.monotonic() - started
                    record_phase(load, "alone", done, took)
                    with cpu_used(pids, load, "paced"):
                        done, took = await load_phase(clients, plan.paced_seconds, PACED_THINK, rng)
                    record_phase(load, "paced", done, took)
                    with cpu_used(pids, load, "closed"):
                        done, took = await load_phase(clients, plan.closed_seconds, 0.0, rng)
                    record_phase(load, "closed", done, took)
                    _progress(label, f"{WORKERS} workers: run {number + 1}/{runs} done")
                await control.stop()
        for client in [admin, *clients.all()]:
            await client.close()
    return load, server.errors_logged(log)


def _first_traceback(log: Path, lines: int = 40) -> str:
    text = log.read_text(errors="replace").splitlines()
    start = next((i for i, line in enumerate(text) if line.startswith("Traceback")), 0)
    return "\n".join(text[start : start + lines])


# --- summaries --------------------------------------------------------------------------------


def percentiles(values_ms: list[float]) -> dict[str, float]:
    if len(values_ms) < 2:
        return {"n": len(values_ms)}
    cuts = statistics.quantiles(values_ms, n=100, method="inclusive")
    return {
        "n": len(values_ms),
        "median": statistics.median(values_ms),
        "p95": cuts[94],
        "p99": cuts[98],
        "max": max(values_ms),
    }


def connect_summary(ready: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    firsts = [ms for r in ready for ms in r["first_state_ms"]]
    return {
        "seconds": seconds,
        "app": sum(r["app"] for r in ready),
        "floor": sum(r["floor"] for r in ready),
        "errors": sum(r["error_count"] for r in ready),
        "error_examples": [e for r in ready for e in r["errors"]][:5],
        "first_state": percentiles(firsts),
    }


def _series(
    name: str,
    where: str,
    runs: list[list[int]],
    target: Target | None = None,
    baseline: str | None = None,
    ratios: list[float] | None = None,
) -> dict[str, Any]:
    pooled = [d / 1e6 for run in runs for d in run]
    # A run needs two requests for its percentiles; one with fewer adds to the pooled ones.
    kept = [Run.of(run) for run in runs if len(run) >= 2] or [Run.of([0, 0])]
    return {
        "where": where,
        "figures": Figures.of(name, kept).as_dict(),
        "pooled": percentiles(pooled),
        "baseline": baseline,
        "ratio": statistics.median(ratios) if ratios else None,
        "target": None if target is None else vars(target),
    }


def calls_summary(calls: Calls) -> dict[str, Any]:
    floor = "floor: bare websockets, to both screens"
    ratios = [
        statistics.median(a) / statistics.median(f)
        for a, f in zip(calls.both, calls.floor_both, strict=True)
    ]
    return {
        "results": [
            _series(floor, "bare websockets server", calls.floor_both),
            _series("floor: to the first screen", "bare websockets server", calls.floor_first),
            _series("HTTP answer to appeler-suivant", "app", calls.answer),
            _series("call to the first screen", "app", calls.first),
            _series("call to both screens", "app", calls.both, CALL_TARGET, floor, ratios),
        ],
        "missed": dict(calls.missed),
        "other_site": calls.other_site,
        "duplicates": calls.duplicates,
        "receipts": calls.receipts,
        "failures": dict(calls.failures),
        "measured": sum(len(run) for run in calls.both),
    }


def screens_summary(done: Any) -> dict[str, Any]:
    types: dict[str, Counter[str]] = {"app": Counter(), "floor": Counter()}
    wrong = Counter[str]()
    closed = Counter[str]()
    codes = Counter[str]()
    examples: list[Any] = []
    for d in done:
        for kind, counts in d["types"].items():
            types[kind].update(counts)
        wrong.update(d["wrong_site"])
        closed.update(d["closed_early"])
        codes.update(d["close_codes"])
        examples += d["wrong_examples"]
    return {
        "types": {k: dict(v.most_common()) for k, v in types.items()},
        "wrong_site": dict(wrong),
        "wrong_examples": examples[:5],
        "closed_early": dict(closed),
        "close_codes": dict(codes),
    }


PHASES = {
    "alone": "one client alone, one request after the other",
    "paced": f"{CLIENTS} clients, think time of mean {PACED_THINK:g} s",
    "closed": f"{CLIENTS} clients at once, no think time",
}


def load_summary(load: Load) -> dict[str, Any]:
    phases = {}
    for phase, ops in load.durations.items():
        rows = []
        for op in [*OPERATIONS, "all"]:
            if op not in ops:
                continue
            name = "all operations" if op == "all" else OPERATIONS[op]
            row = _series(name, "HTTP", ops[op])
            row["op"] = op
            answers = (
                sum((load.answers[phase][o] for o in OPERATIONS), Counter())
                if op == "all"
                else load.answers[phase][op]
            )
            row["answers"] = dict(answers.most_common())
            rows.append(row)
        phases[phase] = {
            "rows": rows,
            "per_second": statistics.median(load.per_second[phase]),
            "server_cpu": statistics.median(load.server_cpu[phase]),
            "machine_cpu": statistics.median(load.machine_cpu[phase]),
        }
    return phases


# --- the report ---------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.1f}"


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def server_errors_under_load(result: dict[str, Any], key: str = "load") -> int:
    return sum(
        n
        for phase in result[key].values()
        for row in phase["rows"]
        if row["op"] == "all"
        for answer, n in row["answers"].items()
        if answer[:1] == "5" or answer.startswith("error")
    )


def section(results: list[dict[str, Any]]) -> Iterator[str]:
    first = results[0]
    plan = first["plan"]
    yield ABOUT.format(
        sites=first["setup"]["sites"],
        per_site=SCREENS_PER_SITE,
        load_sites=LOAD_SITES,
        processes=SCREEN_PROCESSES,
        ping=PING_SECONDS,
        pings_per_s=first["setup"]["screens"] / PING_SECONDS,
        runs=first["calls"]["results"][0]["figures"]["runs"],
        screens=first["setup"]["screens"],
        calls=plan["calls"],
        warm_up=plan["warm_up"],
        clients=CLIENTS,
        kiosks=KIOSK_CLIENTS,
        counters=COUNTER_CLIENTS,
        readers=READER_CLIENTS,
        alone=plan["alone"],
        think=PACED_THINK,
        offered=CLIENTS / PACED_THINK,
        paced_seconds=f"{plan['paced_seconds']:g}",
        closed_seconds=f"{plan['closed_seconds']:g}",
        the_q=THE_Q,
        agents=first["setup"]["agents"],
    )
    for result in results:
        yield from ["", f"### {result['engine']}", ""]
        yield from _calls_section(result)
        yield from _load_section(result)
        yield from _memory_section(result)
        if result["server_errors"]:
            logged = ", ".join(f"{n} × `{name}`" for name, n in result["server_errors"].items())
            yield ""
            yield f"Errors in the server's log: {logged}."
        if result.get("load_workers"):
            yield from _load_section(result, "load_workers")
            if result["server_errors_workers"]:
                logged = ", ".join(
                    f"{n} × `{name}`" for name, n in result["server_errors_workers"].items()
                )
                yield ""
                yield f"Errors in the log of the {result['workers']} workers: {logged}."
    yield ""
    yield FINDINGS


def _calls_section(result: dict[str, Any]) -> Iterator[str]:
    calls = result["calls"]
    connect = result["connect"]
    first_state = connect["first_state"]
    yield (
        f"**Connecting**: {connect['app']:,} screens to the app (and {connect['floor']:,} to the"
        f" floor) in {connect['seconds']:.1f} s, {CONNECT_AT_ONCE} at a time per process,"
        f" {connect['errors']} failed; from opening a socket to its first state:"
        f" {_ms(first_state.get('median', 0))} ms in the median, p95"
        f" {_ms(first_state.get('p95', 0))}, at most {_ms(first_state.get('max', 0))}."
    )
    yield ""
    yield "**Call to screen.**"
    yield ""
    yield from runner.latency_table(result, calls["results"], unit="calls")
    yield ""
    cpu = result["calls_cpu"]
    yield (
        f"While the calls ran, the server process used {cpu['server']:.0f}% of a core and the"
        f" machine {cpu['machine']:.0f}% of its {os.cpu_count()} cores (medians of the runs);"
        f" load average {result['load_average'][0]} before this engine's benchmark,"
        f" {result['load_average'][1]} after. Over all the calls of all the runs at once:"
    )
    yield ""
    yield "| | Calls | Median | p95 | p99 | Max |"
    yield "|---|--:|--:|--:|--:|--:|"
    for row in calls["results"]:
        p = row["pooled"]
        yield (
            f"| {row['figures']['name']} | {p['n']} | {_ms(p['median'])} | {_ms(p['p95'])}"
            f" | {_ms(p['p99'])} | {_ms(p['max'])} |"
        )
    pooled = {row["figures"]["name"]: row["pooled"] for row in calls["results"]}
    both = pooled["call to both screens"]["median"]
    answer = pooled["HTTP answer to appeler-suivant"]["median"]
    floor = pooled["floor: bare websockets, to both screens"]["median"]
    path = "PostgreSQL NOTIFY, then" if "Postgre" in result["engine"] else "in memory, then"
    yield ""
    yield (
        f"Reading: both screens have the event {both - answer:.1f} ms after the HTTP answer in"
        f" the median (the events leave before the answer: {path} one task per socket), and"
        f" the bare fan-out takes {floor:.1f} ms: the screens wait for the call's own request."
    )
    screens = result["screens"]
    wrong = screens["wrong_site"]
    app_types = ", ".join(f"{n:,} `{t}`" for t, n in screens["types"].get("app", {}).items())
    missed = ", ".join(f"{n} on the {k}" for k, n in calls["missed"].items()) or "none"
    yield ""
    yield (
        f"Isolation: the {calls['measured']} measured calls gave {calls['receipts']} receipts,"
        f" **{calls['other_site']} of them by a screen of another site**,"
        f" {calls['duplicates']} repeated; over the whole run"
        f" the app's screens received {app_types}, **{wrong.get('app', 0)} naming another"
        f" site than the screen's** (floor: {wrong.get('floor', 0)}). Calls not seen by both"
        f" screens within {RECEIPT_TIMEOUT:g} s: {missed}."
        + (f" Failed calls: {calls['failures']}." if calls["failures"] else "")
        + (
            f" Sockets closed by the server before the end: {screens['closed_early']}"
            f" (codes {screens['close_codes']})."
            if screens["closed_early"]
            else " No socket was closed before the end."
        )
    )


def _load_section(result: dict[str, Any], key: str = "load") -> Iterator[str]:
    yield ""
    if key == "load":
        yield "**Queue operations.**"
    else:
        yield (
            f"**Queue operations, {result['workers']} uvicorn workers** (as production runs on"
            " PostgreSQL: `python -m plateforme serve --workers"
            f" {result['workers']}`), the same three phases after the ones above, the screens"
            " connected again, no calls measured; the CPU of the server is that of its"
            " workers together."
        )
    for phase, title in PHASES.items():
        data = result[key].get(phase)
        if data is None:
            continue
        target = phase != "alone"
        yield ""
        yield (
            f"*{title[0].upper()}{title[1:]}*: {data['per_second']:.0f} requests a second;"
            f" the server process used {data['server_cpu']:.0f}% of a core, the machine"
            f" {data['machine_cpu']:.0f}% of its {os.cpu_count()} cores (medians of the runs)."
        )
        yield ""
        yield (
            "| Operation | Requests | Median (runs' spread) | p95 | p99 | Max | Answers |"
            + (" median < 20, p99 < 100 |" if target else "")
        )
        yield "|---|--:|--:|--:|--:|--:|---|" + ("---|" if target else "")
        for row in data["rows"]:
            f = row["figures"]
            answers = ", ".join(f"{n:,} × {a}" for a, n in row["answers"].items())
            name = f"**{f['name']}**" if row["op"] == "all" else f["name"]
            line = (
                f"| {name} | {row['pooled']['n']:,} | {f['median']:.1f} ({f['median_low']:.1f}–"
                f"{f['median_high']:.1f}) | {f['p95']:.1f} | {f['p99']:.1f} | {f['max']:.1f}"
                f" | {answers} |"
            )
            if target:
                line += f" {_met(OPS_MEDIAN.met(f) and OPS_P99.met(f))} |"
            yield line
    yield ""
    yield (
        "Server errors (5xx, or a connection lost) in the three phases:"
        f" **{server_errors_under_load(result, key)}**. For context, {THE_Q}."
    )


def _memory_section(result: dict[str, Any]) -> Iterator[str]:
    m = result["memory"]
    names = (
        ("ready", "ready"),
        ("warm", "after the HTTP warm-up"),
        ("connected", f"{result['connect']['app']:,} screens connected"),
        ("after", "after the last run"),
        ("left", "screens gone"),
    )
    cells = ", ".join(f"{label} **{_mb(m[k]['VmRSS']):.0f} MB**" for k, label in names if k in m)
    per_screen = (m["connected"]["VmRSS"] - m["warm"]["VmRSS"]) * 1024 / result["connect"]["app"]
    peak = _peak_connected(result)
    yield ""
    yield (
        f"**Memory** of the server process (VmRSS, MB of 10^6 bytes): {cells}; peak (VmHWM)"
        f" {_mb(m['left']['VmHWM']):.0f} MB. About {per_screen:.0f} KiB per connected screen."
        f" Target < {MEMORY_TARGET_MB:g} MB with the screens connected ({peak:.1f} MB at"
        f" most): {_met(peak < MEMORY_TARGET_MB)}."
    )


def _mb(mib: float) -> float:
    return mib * 1024 * 1024 / 1e6


def _peak_connected(result: dict[str, Any]) -> float:
    """The most the server held while the screens were connected, in MB (10^6 bytes)."""
    m = result["memory"]
    return _mb(max(m["connected"]["VmRSS"], m["after"]["VmRSS"]))


def targets(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    engine = result["engine"]
    for row in result["calls"]["results"]:
        if row["target"] is not None:
            target = Target(**row["target"])
            yield {
                "benchmark": f"{row['figures']['name']}, {result['connect']['app']:,} screens",
                "engine": engine,
                "target": target.text(),
                "measured": f"{row['figures'][target.stat]:.1f} ms",
                "met": target.met(row["figures"]),
            }
    calls = result["calls"]
    wrong = result["screens"]["wrong_site"].get("app", 0) + calls["other_site"]
    yield {
        "benchmark": "events at a screen of another site (and calls missed)",
        "engine": engine,
        "target": "0",
        "measured": f"{wrong} ({sum(calls['missed'].values())})",
        "met": wrong == 0 and not calls["missed"],
    }
    for phase in ("closed", "paced"):
        overall = next(r for r in result["load"][phase]["rows"] if r["op"] == "all")
        for target in (OPS_MEDIAN, OPS_P99):
            yield {
                "benchmark": f"queue operations, {PHASES[phase]}, {target.stat}",
                "engine": engine,
                "target": target.text(),
                "measured": f"{overall['figures'][target.stat]:.1f} ms",
                "met": target.met(overall["figures"]),
            }
    errors = server_errors_under_load(result)
    yield {
        "benchmark": "server errors (5xx) of the queue operations",
        "engine": engine,
        "target": "0",
        "measured": str(errors),
        "met": errors == 0,
    }
    if result.get("load_workers"):
        workers = result["workers"]
        for phase in ("closed", "paced"):
            rows = result["load_workers"][phase]["rows"]
            overall = next(r for r in rows if r["op"] == "all")
            for target in (OPS_MEDIAN, OPS_P99):
                yield {
                    "benchmark": f"queue operations, {PHASES[phase]}, {target.stat},"
                    f" {workers} workers",
                    "engine": engine,
                    "target": target.text(),
                    "measured": f"{overall['figures'][target.stat]:.1f} ms",
                    "met": target.met(overall["figures"]),
                }
        errors = server_errors_under_load(result, "load_workers")
        yield {
            "benchmark": f"server errors (5xx) of the queue operations, {workers} workers",
            "engine": engine,
            "target": "0",
            "measured": str(errors),
            "met": errors == 0,
        }
    peak = _peak_connected(result)
    yield {
        "benchmark": f"server RSS, {result['connect']['app']:,} screens connected",
        "engine": engine,
        "target": f"< {MEMORY_TARGET_MB:g} MB",
        "measured": f"{peak:.1f} MB",
        "met": peak < MEMORY_TARGET_MB,
    }


if __name__ == "__main__":
    runner.main("bench.file_attente", bench)

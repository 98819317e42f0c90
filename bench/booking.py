"""Booking over HTTP under 50 concurrent clients: latency on distinct créneaux, and the
double bookings when they all aim at the same one.

Run by `python -m bench` in one process per engine:
`python -m bench.booking --database-url URL --calls N --runs R --output FILE`
loads the demo and `bench.charge_rdv` into the (empty) database at URL, starts the app
under uvicorn, measures, and writes the figures to FILE as JSON. Each run has N // 166
rounds of the 50 clients booking distinct créneaux at once, the 50 clients booking with
think times for 10 s, one client booking N // 25 alone, and N // 166 rounds of the 50
clients aiming at one créneau.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench import charge_rdv, runner, server
from bench.runner import Target
from bench.stats import Figures, Run

TITLE = "Booking under 50 concurrent clients"
ABOUT = """\
On a database loaded as in the previous section (the demo and the load of
`bench/charge_rdv.py`, {rdvs:,} rdvs), uvicorn serves the app in another process (one
worker, as `make run`; on PostgreSQL everything is measured again with {workers} workers, as
production runs it, on créneaux of its own: rows marked ", {workers} workers"). The
benchmark process runs {clients} clients on one event loop,
each an `httpx.AsyncClient` with one kept-alive connection. Before the measures, the free
créneaux are taken from the week views (`recherche.semaine`, 6 weeks from 2 weeks ahead)
of the 586 town halls for "{social}" and of the 16 centres for "{pmi}"; each is booked
once, in the order of their start: the town halls' permanences have one agent each, and
in the centres only pmi is booked, on one grid that two bookings cannot both hold. Every
booking is a new usager.

**Distinct créneaux**: in each of {rounds} rounds per run, the {clients} clients each post
(`POST /api/rdv`) a créneau of their own at the same time; the next round starts when the
last answer is in. Every request should get a 201. Its baseline is `GET /health` (one
`SELECT 1`) sent the same way by the same clients in the same run; one client booking
{alone} créneaux alone, one after the other, gives the time of one booking when nothing
waits. With one worker, the requests of a round share one process: the last answers come
once it has done nearly the whole round's work, so that the p95 is of the order of
{p95_share} times the time of one booking alone (less when the waits on the database
overlap, more when the requests contend). The throwaway PostgreSQL runs with fsync off;
SQLite flushes its WAL at each commit (`synchronous=FULL`, its default).

**Paced**: then, for {paced_seconds:g} s, the same {clients} clients each book a créneau of
their own, wait a think time drawn from an exponential distribution of mean
{paced_think:g} s, book again, and so on (the first booking after a uniform wait): about
{paced_rate} bookings a second offered, far more than a département's citizens and agents
make together, but no longer all at the same instant. Every booking started in that time is
counted and waited for.

**Same créneau**: in each of {rounds} rounds per run, the {clients} clients post the same
créneau at once, one of a town hall for which `agents_libres` finds exactly one free
agent (one per town hall). One may get a 201, the others a 409 with the next free
créneaux. Afterwards the database is counted: the active rdvs at each contested créneau
(a double booking is any beyond the first, warm-up rounds included) and, over the whole
rdv table, the pairs of active rdvs of one agent that overlap."""

FINDINGS = """\
### Why p95 < 50 ms is out of reach with 50 bookings at once, and what changed

Found by hand (not re-measured by `make bench`):

- **The floor is near the target already.** `GET /health`, one `SELECT 1`, sent by the
  50 clients at once, has a p95 of 25 to 55 ms on one worker of this machine: the 50
  requests share one process, and the last answers come once it has parsed, routed and
  answered nearly all of them. A booking costs about 5 ms of CPU (20 statements, 7 of
  them inserts: the rdv, the usager, the seat, the history and the 3 messages), so 50 at
  once is about 250 ms of one core's work before the last answer, whatever the
  database. Meeting the target would take under 1 ms of CPU per booking, barely more
  than `GET /health`; two workers split it on a machine whose 2 cores also run the
  database and the 50 clients.
- **With think times** (the paced rows), the same clients offer about 25 bookings a
  second, tens of times what a département's citizens and agents book in a busy hour:
  a booking then seldom waits for another, and the p95 is under 20 ms on both engines.
- **2026-12-06, the booking's own statements written once.** A booking cost 13.0 ms of
  CPU (300 in a row on SQLite, in-process with the client), half of it in the reaction
  that writes the confirmation and reminders: 13 queries built by Piccolo inside the
  write transaction, four to read back the rdv just written. The reads and the message
  insert of every booking are now fixed SQL (`plateforme.db.lignes`), the rdv is read
  back in one join, and the GSM-7 texts are converted in C (`str.translate`): 5.5 ms.
  Against the full run before it (5d06d27), 50 at once p95 951 → 388 ms (SQLite),
  602 → 202 ms (PostgreSQL), 480 → 195 ms (2 workers); paced p95 75 → 18, 61 → 19 and
  48 → 17 ms; one booking alone 19.7 → 5.7 ms (SQLite, median).
- **2026-12-06, SQLite: a pool of open connections** (`plateforme.db`): Piccolo opened
  a connection and a thread for every transaction and every query outside one. Alternated
  runs of this benchmark (3 runs each, before and after): one booking alone 30.0 and
  29.4 → 18.0 and 17.2 ms (median); 50 at once, p95 1326 and 1314 → 944 and 901 ms;
  `GET /health` 50 at once, p95 86 and 85 → 55 and 54 ms.
- Double bookings stay at 0 on both engines, whatever the load: the database refuses
  them (invariant 1), and the clients that lose get a 409 with the next free créneaux."""


CLIENTS = 50
# The paced phase: the same clients, each waiting a think time of this mean (exponential)
# before each booking, for this long.
PACED_THINK = 2.0
PACED_SECONDS = 10.0
# On PostgreSQL, the same scenario also runs with this many uvicorn workers.
WORKERS = 2
TARGET = Target("p95", 50.0)
BASE_PHONE = 620_000_000  # +33 6 20 00 00 00 upwards: valid mobiles, none in the load


@dataclass
class Series:
    """The latencies of one kind of request, per run."""

    name: str
    baseline: str | None = None
    target: Target | None = None
    runs: list[Run] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    per_second: list[float] = field(default_factory=list)

    def add(self, durations: list[int], statuses: list[int], seconds: float) -> None:
        self.runs.append(Run.of(durations))
        self.statuses.update(statuses)
        self.per_second.append(len(durations) / seconds)

    def result(self) -> dict[str, Any]:
        return {
            "where": "HTTP",
            "figures": Figures.of(self.name, self.runs).as_dict(),
            "baseline": self.baseline,
            "ratio": statistics.median(self.ratios) if self.ratios else None,
            "target": None if self.target is None else vars(self.target),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "per_second": statistics.median(self.per_second),
        }


@dataclass(frozen=True)
class Creneau:
    motif_id: int
    site_id: int
    debut: str  # ISO 8601 with the local offset, as the week view gives it


async def bench(calls: int, runs: int) -> dict[str, Any]:
    from plateforme import db
    from plateforme.settings import get_settings

    rounds = max(1, calls // 166)
    alone = max(2, calls // 25)
    rows, charge = await charge_rdv.preparer()
    await db.start(get_settings())
    try:
        engine = await runner.engine_version()
        label = engine.split()[0]
        # Production runs several workers on PostgreSQL (DESIGN.md): the same
        # scenario again with WORKERS of them, on créneaux of their own.
        configurations = [1, WORKERS] if get_settings().is_postgres else [1]
        # Warm-up included: one more run's worth.
        needed = (runs + 1) * (CLIENTS * rounds + alone + paced_bound())
        contested = (runs + 1) * rounds
        distinct, single = await free_creneaux(
            charge, needed * len(configurations), contested * len(configurations)
        )
        log = Path(tempfile.mkdtemp(prefix="rdv-bench-server-")) / "server.log"
        measured: list[Series] = []
        started = time.monotonic()
        for number, workers in enumerate(configurations):
            with server.running(log.with_suffix(f".{workers}"), workers=workers) as base_url:
                clients = [
                    httpx.AsyncClient(
                        base_url=base_url,
                        timeout=120,
                        # uvicorn closes a connection idle for 5 s: a client that waits
                        # that long must not send on it as it closes (the paced phase's
                        # think times do), so it drops it first and opens another.
                        limits=httpx.Limits(
                            max_connections=1, max_keepalive_connections=1, keepalive_expiry=4
                        ),
                    )
                    for _ in range(CLIENTS)
                ]
                try:
                    measured += await measure(
                        clients,
                        distinct[number * needed : (number + 1) * needed],
                        single[number * contested : (number + 1) * contested],
                        runs,
                        rounds,
                        alone,
                        label,
                        workers,
                    )
                finally:
                    for client in clients:
                        await client.aclose()
        seconds = time.monotonic() - started
        found = await checks(single)
        errors: Counter[str] = Counter()
        for workers in configurations:
            errors.update(server.errors_logged(log.with_suffix(f".{workers}")))
        found["server_errors"] = dict(errors.most_common())
        shutil.rmtree(log.parent)
    finally:
        await db.stop()
    return {
        "engine": engine,
        "rows": rows,
        "charge": charge.as_dict(),
        "server": server.description(
            " and ".join(map(str, configurations))
            + (" workers" if configurations != [1] else " worker")
        ),
        "seconds": seconds,
        "clients": CLIENTS,
        "alone": alone,
        "rounds": rounds,
        "results": [series.result() for series in measured],
        "checks": found,
    }


async def free_creneaux(
    charge: charge_rdv.Charge, distinct: int, contested: int
) -> tuple[list[Creneau], list[Creneau]]:
    """`distinct` free créneaux that can all be booked together, and `contested` others of
    town halls with exactly one free agent, all from the week views."""
    from plateforme.db import lecture
    from rdv.services import recherche
    from rdv.services.chargement import motif_info
    from rdv.services.reservation import agents_libres
    from sites.tables import Site

    kinds = {
        row["id"]: row["kind"]
        for row in await Site.select(Site.id, Site.kind).where(
            Site.territoire == charge.territoire_id
        )
    }
    aujourdhui = datetime.now(UTC).date()
    offres: list[tuple[str, Creneau]] = []
    for code, kind in (("social", "permanence"), ("pmi", "centre")):
        motif_id = charge.motifs[code]
        for site_id in sorted(s for s, k in kinds.items() if k == kind):
            # 6 weeks from 2 weeks ahead (in the motifs' 60 days), 14 days a call at most.
            for semaines in (2, 4, 6):
                semaine = await recherche.semaine(
                    motif_id, site_id, du=aujourdhui + timedelta(weeks=semaines), jours=14
                )
                offres += [
                    (kind, Creneau(motif_id, site_id, c.debut.isoformat()))
                    for jour in semaine.jours
                    for c in jour.creneaux
                ]
    # Interleaved by site and time, so that concurrent clients spread over many agendas.
    offres.sort(key=lambda o: (o[1].debut, o[1].site_id))
    uniques: list[Creneau] = []
    motif = await motif_info(charge.motifs["social"])
    maintenant = datetime.now(UTC)
    vus: set[int] = set()
    for kind, creneau in offres:
        # One per town hall, the first from 2 weeks ahead.
        if len(uniques) == contested or kind != "permanence" or creneau.site_id in vus:
            continue
        vus.add(creneau.site_id)
        async with lecture():
            libres = await agents_libres(
                motif, creneau.site_id, datetime.fromisoformat(creneau.debut), maintenant
            )
        if len(libres) == 1:
            uniques.append(creneau)
    pris = set(uniques)
    reste = [o[1] for o in offres if o[1] not in pris]
    if len(reste) < distinct or len(uniques) < contested:
        raise RuntimeError(
            f"{len(reste)} free créneaux for {distinct} bookings and {len(uniques)}"
            f" single-agent ones for {contested} rounds"
        )
    # Spread: every k-th, not the first ones only.
    step = len(reste) // distinct
    return reste[::step][:distinct], uniques


def paced_bound() -> int:
    """More bookings than a paced phase ever makes (about CLIENTS × SECONDS / THINK)."""
    return int(CLIENTS * PACED_SECONDS / PACED_THINK * 1.25) + CLIENTS


def _payload(creneau: Creneau, numero: int) -> dict[str, Any]:
    return {
        "motif_id": creneau.motif_id,
        "site_id": creneau.site_id,
        "debut": creneau.debut,
        "usager": {
            "prenom": "Camille",
            "nom": f"Bench{numero}",
            "telephone": f"+33{BASE_PHONE + numero}",
        },
    }


async def measure(
    clients: list[httpx.AsyncClient],
    distinct: list[Creneau],
    single: list[Creneau],
    runs: int,
    rounds: int,
    alone: int,
    label: str,
    workers: int = 1,
) -> list[Series]:
    apres = "" if workers == 1 else f", {workers} workers"
    health = Series(f"GET /health (SELECT 1), {CLIENTS} at once{apres}")
    booking = Series(
        f"POST /api/rdv, {CLIENTS} at once, distinct créneaux{apres}", health.name, TARGET
    )
    paced = Series(
        f"POST /api/rdv, {CLIENTS} clients, think time of mean {PACED_THINK:g} s{apres}",
        target=TARGET,
    )
    sequential = Series(f"POST /api/rdv, 1 client alone{apres}")
    contention = Series(f"POST /api/rdv, {CLIENTS} at once, the same créneau{apres}")
    queue = iter(distinct)
    contested = iter(single)
    numeros = itertools.count()

    async def post(client: httpx.AsyncClient, creneau: Creneau) -> tuple[int, int]:
        payload = _payload(creneau, next(numeros))
        start = time.perf_counter_ns()
        response = await client.post("/api/rdv", json=payload)
        return time.perf_counter_ns() - start, response.status_code

    async def get(client: httpx.AsyncClient, _: object) -> tuple[int, int]:
        start = time.perf_counter_ns()
        response = await client.get("/health")
        return time.perf_counter_ns() - start, response.status_code

    async def at_once(
        series: Series | None,
        send: Callable[[httpx.AsyncClient, Any], Awaitable[tuple[int, int]]],
        work: Callable[[], list[Any]],
    ) -> None:
        """`rounds` rounds of one request per client, all sent together; the next round
        starts when the last answer of the previous one is in."""
        done: list[tuple[int, int]] = []
        seconds = 0.0
        for _ in range(rounds):
            todo = work()
            started = time.perf_counter()
            done += await asyncio.gather(*(send(c, w) for c, w in zip(clients, todo, strict=True)))
            seconds += time.perf_counter() - started
        if series is not None:
            series.add([d for d, _ in done], [s for _, s in done], seconds)

    rng = random.Random(20261206)

    async def paced_phase(series: Series | None) -> None:
        """Each client books, waits an exponential think time, books again... (the first
        after a uniform wait, so that they do not start together), for PACED_SECONDS;
        every booking started in that time is counted and waited for."""
        loop = asyncio.get_running_loop()
        stop_at = loop.time() + PACED_SECONDS
        budget = iter(range(paced_bound()))
        done: list[tuple[int, int]] = []

        async def client_loop(client: httpx.AsyncClient) -> None:
            wait = rng.uniform(0, PACED_THINK)
            while True:
                await asyncio.sleep(max(0.0, min(wait, stop_at - loop.time())))
                if loop.time() >= stop_at or next(budget, None) is None:
                    return
                done.append(await post(client, next(queue)))
                wait = rng.expovariate(1 / PACED_THINK)

        started = time.perf_counter()
        await asyncio.gather(*(client_loop(c) for c in clients))
        if series is not None:
            series.add([d for d, _ in done], [s for _, s in done], time.perf_counter() - started)

    async def one_run(record: bool) -> None:
        await at_once(health if record else None, get, lambda: [None] * CLIENTS)
        await at_once(booking if record else None, post, lambda: [next(queue) for _ in clients])
        await paced_phase(paced if record else None)
        started = time.perf_counter()
        done = [await post(clients[0], next(queue)) for _ in range(alone)]
        if record:
            sequential.add(
                [d for d, _ in done], [s for _, s in done], time.perf_counter() - started
            )
        await at_once(contention if record else None, post, lambda: [next(contested)] * CLIENTS)
        if record:
            booking.ratios.append(booking.runs[-1].median / health.runs[-1].median)

    await one_run(record=False)
    for number in range(runs):
        await one_run(record=True)
        print(f"[{label} booking{apres}] run {number + 1}/{runs} done", file=sys.stderr, flush=True)
    return [health, booking, paced, sequential, contention]


async def checks(contested: list[Creneau]) -> dict[str, Any]:
    """What the database holds at the contested créneaux, and overlaps anywhere."""
    from rdv.tables import STATUTS_ACTIFS, Rdv

    actifs = [str(s) for s in STATUTS_ACTIFS]
    par_creneau = []
    for creneau in contested:
        par_creneau.append(
            await Rdv.count().where(
                Rdv.site == creneau.site_id,
                Rdv.motif == creneau.motif_id,
                Rdv.debut == datetime.fromisoformat(creneau.debut),
                Rdv.statut.is_in(actifs),
            )
        )
    liste = ", ".join(f"'{s}'" for s in actifs)
    overlaps = await Rdv.raw(
        f"""SELECT count(*) AS n FROM rdv a JOIN rdv b
        ON b.agent = a.agent AND b.id > a.id AND b.debut < a.fin AND b.fin > a.debut
        WHERE a.statut IN ({liste}) AND b.statut IN ({liste})"""
    )
    return {
        "contested": len(par_creneau),
        "rdvs_per_creneau": {str(k): v for k, v in sorted(Counter(par_creneau).items())},
        "double_bookings": sum(max(0, n - 1) for n in par_creneau),
        "without_rdv": sum(n == 0 for n in par_creneau),
        "overlapping_pairs": overlaps[0]["n"],
        "rdvs": await Rdv.count(),
    }


def section(results: list[dict[str, Any]]) -> Iterator[str]:
    first = results[0]
    yield ABOUT.format(
        rdvs=first["charge"]["rdvs"],
        clients=first["clients"],
        social=charge_rdv.MOTIFS["social"][0],
        pmi=charge_rdv.MOTIFS["pmi"][0],
        alone=first["alone"],
        rounds=first["rounds"],
        p95_share=round(0.95 * first["clients"]),
        paced_seconds=PACED_SECONDS,
        paced_think=PACED_THINK,
        paced_rate=round(first["clients"] / PACED_THINK),
        workers=WORKERS,
    )
    for result in results:
        yield from ["", f"### {result['engine']}", ""]
        yield from runner.latency_table(result, result["results"], unit="requests")
        yield ""
        yield "| Requests | Answers | Per second (median of the runs) |"
        yield "|---|---|--:|"
        for row in result["results"]:
            answers = ", ".join(f"{n} × {status}" for status, n in row["statuses"].items())
            yield f"| {row['figures']['name']} | {answers} | {row['per_second']:.0f} |"
        check = result["checks"]
        per = ", ".join(f"{n} créneaux with {k} rdv" for k, n in check["rdvs_per_creneau"].items())
        yield ""
        yield (
            f"Same créneau: {check['contested']} créneaux contested ({per}):"
            f" **{check['double_bookings']} double bookings**, {check['without_rdv']} créneaux"
            f" left without rdv; {check['overlapping_pairs']} pairs of overlapping active rdvs"
            f" of one agent among the {check['rdvs']:,} rdvs of the database."
        )
        if check["server_errors"]:
            logged = ", ".join(f"{n} × `{name}`" for name, n in check["server_errors"].items())
            yield ""
            yield f"Errors in the server's log: {logged}."
    yield ""
    yield FINDINGS


def targets(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from runner.latency_targets(result)
    check = result["checks"]
    yield {
        "benchmark": f"double bookings, {result['clients']} clients on one créneau",
        "engine": result["engine"],
        "target": "0",
        "measured": f"{check['double_bookings']} in {check['contested']} créneaux,"
        f" {check['overlapping_pairs']} overlaps in the table",
        "met": check["double_bookings"] == 0 and check["overlapping_pairs"] == 0,
    }
    errors = {
        row["figures"]["name"]: sum(n for status, n in row["statuses"].items() if status >= "500")
        for row in result["results"]
    }
    yield {
        "benchmark": "server errors (5xx) while booking",
        "engine": result["engine"],
        "target": "0",
        "measured": ", ".join(f"{n} ({name})" for name, n in errors.items() if n) or "0",
        "met": not any(errors.values()),
    }


if __name__ == "__main__":
    runner.main("bench.booking", bench)

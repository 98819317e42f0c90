"""Nearest contact points for a commune, in-process and over HTTP, against plain queries.

Run by `python -m bench` in one process per engine:
`python -m bench.nearest_sites --database-url URL --calls N --runs R --output FILE`
creates the demo in the (empty) database at URL, measures, and writes the
figures to FILE as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import database, server
from bench.stats import Figures, Run

TITLE = "Nearest contact points for a commune"
ABOUT = """\
The operation behind `GET /api/sites/proches?commune=…`, in one read snapshot
(`plateforme.db.lecture`, one SQLite connection): `resoudre_point(commune=insee)`
then `sites_proches(point, service, limite=10)` (positions of the candidates in a 30 km
box, exact distances in Python, then details, closures, holidays and the next 7 days of
the 10 nearest), over the 602 sites of the Haute-Garonne demo (586 town halls and 16
Maisons des Solidarités) among the 614 of the database. `social` is offered by all 602,
`pmi` by the 16 centres only, so that the 30 km box often holds fewer than 10 of them and
a second query looks everywhere. Each call takes the next of {sample} communes of the
Haute-Garonne drawn once with a fixed seed; calls are sequential on one event loop, after
a warm-up, and the benchmarks take turns within each run. The baselines run in the same
process and runs: `SELECT 1` (the floor of one query: outside a transaction Piccolo's
SQLite engine opens a new aiosqlite connection for each query, its PostgreSQL engine takes
one from the pool), and a plain `Site.select(id, nom, latitude, longitude)` of the 602
sites of the territoire. Over HTTP, uvicorn serves the app in another process on the same
database (one worker, as `make run`) and one `httpx.AsyncClient` sends sequential
requests on a kept-alive connection; `GET /health` (one `SELECT 1`) is its baseline."""

TARGET_MS = 5.0
SERVICES = ("social", "pmi")
LIMITE = 10
SAMPLE = 200
SEED = 31
HAUTE_GARONNE = "Conseil départemental de la Haute-Garonne"


@dataclass
class Benchmark:
    name: str
    where: str  # "in-process" or "HTTP"
    call: Callable[[int], Awaitable[object]]
    baseline: str | None = None
    target_ms: float | None = None
    runs: list[Run] = field(default_factory=list)
    # Per run, this benchmark's median over its baseline's median in the same run.
    ratios: list[float] = field(default_factory=list)


async def communes_sample() -> list[str]:
    """INSEE codes of communes of the Haute-Garonne with a position, the same on every run."""
    from sites.tables import Commune

    rows = await (
        Commune.select(Commune.insee)
        .where((Commune.departement == "31") & Commune.latitude.is_not_null())
        .order_by(Commune.insee)
    )
    return random.Random(SEED).sample([row["insee"] for row in rows], SAMPLE)


async def checks(communes: list[str]) -> dict[str, Any]:
    """What the measured calls return: sites per call, the candidates within the search
    radius, and how often fewer than `LIMITE` of them made `sites_proches` query again."""
    from sites.services import proximite
    from sites.tables import Site

    found: dict[str, Any] = {}
    for service in SERVICES:
        positions = await Site.raw(_POSITIONS_SQL, service)
        counts, within_radius = [], []
        for insee in communes:
            point = await proximite.resoudre_point(
                commune=insee, code_postal=None, lat=None, lon=None
            )
            sites = await proximite.sites_proches(point, service=service, limite=LIMITE)
            counts.append(len(sites))
            within_radius.append(
                sum(
                    proximite.distance_km(point.latitude, point.longitude, p["lat"], p["lon"])
                    <= proximite.RAYON_KM
                    for p in positions
                )
            )
        found[service] = {
            "offered_by": len(positions),
            "results_min": min(counts),
            "results_max": max(counts),
            "within_radius_median": statistics.median(within_radius),
            "within_radius_max": max(within_radius),
            "second_query_share": sum(n < LIMITE for n in within_radius) / len(communes),
        }
    return found


_POSITIONS_SQL = """
SELECT DISTINCT s.id, s.latitude AS lat, s.longitude AS lon
FROM site s
JOIN site_service ss ON ss.site = s.id
JOIN service v ON v.id = ss.service
WHERE s.actif AND v.code = {}
"""


async def in_process(communes: list[str], territoire_id: int) -> list[Benchmark]:
    from plateforme.db import lecture
    from sites.services import proximite
    from sites.tables import Site

    count = await Site.count().where(Site.territoire == territoire_id)

    async def select_1(i: int) -> object:
        return await Site.raw("SELECT 1")

    async def all_sites(i: int) -> object:
        rows = await Site.select(Site.id, Site.nom, Site.latitude, Site.longitude).where(
            Site.territoire == territoire_id
        )
        assert len(rows) == count, len(rows)
        return rows

    def nearest(service: str) -> Callable[[int], Awaitable[object]]:
        async def call(i: int) -> object:
            # As the API does: one read snapshot (one SQLite connection) for the whole search.
            async with lecture():
                point = await proximite.resoudre_point(
                    commune=communes[i % len(communes)], code_postal=None, lat=None, lon=None
                )
                return await proximite.sites_proches(point, service=service, limite=LIMITE)

        return call

    baseline = f"SELECT all sites ({count} rows)"
    return [
        Benchmark("SELECT 1", "in-process", select_1),
        Benchmark(baseline, "in-process", all_sites),
        *(
            Benchmark(f"nearest, service={s}", "in-process", nearest(s), baseline, TARGET_MS)
            for s in SERVICES
        ),
    ]


def over_http(client: httpx.AsyncClient, communes: list[str]) -> list[Benchmark]:
    async def get(url: str, params: dict[str, str] | None = None) -> object:
        response = await client.get(url, params=params)
        if response.status_code != 200:
            raise RuntimeError(f"{response.url} answered {response.status_code}")
        return response

    async def health(i: int) -> object:
        return await get("/health")

    async def nearest(i: int) -> object:
        params = {"service": "social", "commune": communes[i % len(communes)]}
        return await get("/api/sites/proches", params)

    baseline = "GET /health (SELECT 1)"
    return [
        Benchmark(baseline, "HTTP", health),
        Benchmark("GET /api/sites/proches, service=social", "HTTP", nearest, baseline),
    ]


async def measure(benchmark: Benchmark, calls: int) -> Run:
    durations = []
    for i in range(calls):
        start = time.perf_counter_ns()
        await benchmark.call(i)
        durations.append(time.perf_counter_ns() - start)
    return Run.of(durations)


async def run_all(benchmarks: list[Benchmark], calls: int, runs: int, label: str) -> None:
    warm_up = min(calls, 100)
    for benchmark in benchmarks:
        await measure(benchmark, warm_up)
    for number in range(runs):
        # Taking turns, each in a different position per run: a slow patch of
        # the shared machine lands on all of them rather than on one.
        shift = number % len(benchmarks)
        for benchmark in benchmarks[shift:] + benchmarks[:shift]:
            benchmark.runs.append(await measure(benchmark, calls))
        by_name = {benchmark.name: benchmark for benchmark in benchmarks}
        for benchmark in benchmarks:
            if benchmark.baseline is not None:
                base = by_name[benchmark.baseline].runs[-1].median
                benchmark.ratios.append(benchmark.runs[-1].median / base)
        print(f"[{label}] run {number + 1}/{runs} done", file=sys.stderr, flush=True)


async def engine_version() -> str:
    from plateforme.settings import get_settings
    from sites.tables import Site

    if get_settings().is_postgres:
        rows = await Site.raw("SHOW server_version")
        return f"PostgreSQL {rows[0]['server_version'].split()[0]}"
    rows = await Site.raw("SELECT sqlite_version() AS version")
    return f"SQLite {rows[0]['version']}"


async def bench(calls: int, runs: int) -> dict[str, Any]:
    from plateforme import db
    from plateforme.settings import get_settings
    from sites.tables import Territoire

    # Piccolo's migration report would drown the progress lines.
    with contextlib.redirect_stdout(io.StringIO()):
        rows = await database.load_demo()
    await db.start(get_settings())
    try:
        engine = await engine_version()
        label = engine.split()[0]
        territoire = (
            await Territoire.select(Territoire.id).where(Territoire.nom == HAUTE_GARONNE).first()
        )
        assert territoire is not None
        communes = await communes_sample()
        found = await checks(communes)
        with server.running() as base_url:
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
                benchmarks = await in_process(communes, territoire["id"]) + over_http(
                    client, communes
                )
                started = time.monotonic()
                await run_all(benchmarks, calls, runs, label)
                seconds = time.monotonic() - started
    finally:
        await db.stop()
    return {
        "engine": engine,
        "rows": rows,
        "sample": len(communes),
        "checks": found,
        "server": server.description(),
        "seconds": seconds,
        "results": [
            {
                "where": benchmark.where,
                "figures": Figures.of(benchmark.name, benchmark.runs).as_dict(),
                "baseline": benchmark.baseline,
                "ratio": statistics.median(benchmark.ratios) if benchmark.ratios else None,
                "target_ms": benchmark.target_ms,
            }
            for benchmark in benchmarks
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.nearest_sites")
    parser.add_argument("--database-url", required=True, help="an empty database")
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    # Before anything of the app is imported: the settings are read once.
    database.use(args.database_url)
    result = asyncio.run(bench(args.calls, args.runs))
    args.output.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

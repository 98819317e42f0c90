"""Nearest contact points for a commune, in-process and over HTTP, against plain queries.

Run by `python -m bench` in one process per engine:
`python -m bench.nearest_sites --database-url URL --calls N --runs R --output FILE`
creates the demo in the (empty) database at URL, measures, and writes the
figures to FILE as JSON.
"""

from __future__ import annotations

import contextlib
import io
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx

from bench import database, runner, server
from bench.runner import Benchmark, Target

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

TARGET = Target("median", 5.0)
SERVICES = ("social", "pmi")
LIMITE = 10
SAMPLE = 200
SEED = 31
HAUTE_GARONNE = "Conseil départemental de la Haute-Garonne"


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
            Benchmark(f"nearest, service={s}", "in-process", nearest(s), baseline, TARGET)
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


async def bench(calls: int, runs: int) -> dict[str, Any]:
    from plateforme import db
    from plateforme.settings import get_settings
    from sites.tables import Territoire

    # Piccolo's migration report would drown the progress lines.
    with contextlib.redirect_stdout(io.StringIO()):
        rows = await database.load_demo()
    await db.start(get_settings())
    try:
        engine = await runner.engine_version()
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
                await runner.run_all(benchmarks, calls, runs, label)
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
        "results": [benchmark.result() for benchmark in benchmarks],
    }


def section(results: list[dict[str, Any]]) -> Iterator[str]:
    yield ABOUT.format(sample=results[0]["sample"])
    for result in results:
        yield from ["", f"### {result['engine']}", ""]
        yield from runner.latency_table(result, result["results"])
        yield ""
        yield _checks(result)


def targets(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return runner.latency_targets(result)


def _checks(result: dict[str, Any]) -> str:
    rows = result["rows"]
    parts = [
        f"Database: {rows['communes']:,} communes, {rows['territoires']} territoires,"
        f" {rows['sites']} sites."
    ]
    for service, check in result["checks"].items():
        low, high = check["results_min"], check["results_max"]
        count = str(low) if low == high else f"{low} to {high}"
        parts.append(
            f"`{service}` (offered by {check['offered_by']} sites): {count} sites per call;"
            f" {check['within_radius_median']:g} candidates within the 30 km radius in the"
            f" median (at most {check['within_radius_max']}); fewer than 10 for"
            f" {check['second_query_share']:.0%} of the communes, which then take a second,"
            " unbounded query."
        )
    return " ".join(parts)


if __name__ == "__main__":
    runner.main("bench.nearest_sites", bench)

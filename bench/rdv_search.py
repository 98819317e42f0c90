"""Free créneaux under a realistic load: the next availability of a motif at every site of
the Haute-Garonne over 8 weeks, and the week view of one site, in-process and over HTTP.

Run by `python -m bench` in one process per engine:
`python -m bench.rdv_search --database-url URL --calls N --runs R --output FILE`
loads the demo and `bench.charge_rdv` into the (empty) database at URL, measures, and
writes the figures to FILE as JSON. The next-availability benchmarks take N // 30 calls
per run, the week views N // 6.
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as heure
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bench import charge_rdv, runner, server
from bench.runner import Benchmark, Target

TITLE = "Free créneaux under load: next availability and the week view"
ABOUT = """\
The database holds the demo and the load of `bench/charge_rdv.py` (seed {seed}): in the
Haute-Garonne, two motifs open to online booking, "{pmi}" (pmi, {pmi_min} min, offered by
the 16 Maisons des Solidarités) and "{social}" (social, {social_min} min, offered by the
602 sites), {agents} agents ({renforts} of them added to the demo's {demo} in the
centres) with {plages:,} weekly plages (centre staff 3 to 5 weekdays, 09:00–12:00 and/or
13:30–17:00; town-hall permanences one half-day every week or every other week), a week
of leave for {absences} of them, {usagers:,} usagers and {rdvs:,} rdvs over the next 8
weeks (per week: {par_semaine}), drawn on free grid positions with a weight falling with
the distance in days. The share of each motif's grid positions taken, week by week:
pmi {pris_pmi}; social {pris_social}; in the first week {pleins} of the 602 sites have
no free social créneau left. The generator took {generation:.1f} s, {inserts:.1f} of
them for the bulk inserts.

**Next availability** (the computation behind `GET /api/motifs/{{m}}/sites`, for every
site at once): `motif_info` and `charger(motif, debut=now, fin=now + 8 weeks,
site_ids=<the 602 sites of the 31>)` in one read snapshot (`plateforme.db.lecture`),
the five queries, then `contexte.prochains(now, now + 8 weeks, now)`, the pure engine
(`prochain_creneau_par_site`). Measured whole, and split: the five queries alone (the
baseline of the whole), and the engine alone on a context loaded once per run. The floor
of the five queries is their biggest one, the active rdvs of the agents in the window,
run through the driver with the instants as integers (SQLite's `strftime('%s')`,
PostgreSQL's `extract(epoch)`): the same rows without Piccolo's query building, dicts
and datetimes. {heavy} calls per run.

**Week view** (`recherche.semaine(motif, site)`, 7 days from today, and a second load up to
the motif's horizon when the week is full, to say when the next créneau is): in-process
over the 602 sites for social and the 16 centres for pmi, each call the next site of a
list shuffled once with a fixed seed; its baseline is its loading alone (`motif_info` and
`charger` for that site and week, in one snapshot). Over HTTP, `GET
/api/motifs/{{m}}/sites/{{s}}/creneaux` on uvicorn (one worker, as `make run`) in another
process, sequential requests on one kept-alive `httpx.AsyncClient` connection, against
`GET /health` (one `SELECT 1`). {light} calls per run. Calls are sequential on one event
loop, after a warm-up, and the benchmarks of each group take turns within each run."""

TARGET_PROCHAINS = Target("p95", 100.0)
TARGET_SEMAINE = Target("p95", 20.0)
SEED = 31
WARM_UP = 20


async def bench(calls: int, runs: int) -> dict[str, Any]:
    from plateforme import db
    from plateforme.settings import get_settings

    rows, charge = await charge_rdv.preparer()
    await db.start(get_settings())
    try:
        engine = await runner.engine_version()
        label = engine.split()[0]
        sites = await _sites(charge.territoire_id)
        found = await checks(charge, sites)
        heavy = max(2, calls // 30)
        light = max(2, calls // 6)
        with server.running() as base_url:
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
                prochains = await next_availability(charge, sites, heavy)
                semaines = week_views(charge, sites, client, light)
                started = time.monotonic()
                await runner.run_all(prochains, heavy, runs, f"{label} next availability")
                await runner.run_all(semaines, light, runs, f"{label} week view")
                seconds = time.monotonic() - started
    finally:
        await db.stop()
    return {
        "engine": engine,
        "rows": rows,
        "charge": charge.as_dict(),
        "checks": found,
        "calls": {"heavy": heavy, "light": light},
        "server": server.description(),
        "seconds": seconds,
        "results": [b.result() for b in prochains + semaines],
    }


async def _sites(territoire_id: int) -> dict[str, list[int]]:
    """Every active site of the 31, and those offering each service, shuffled once."""
    from sites.tables import Site, SiteService

    every = [
        row["id"]
        for row in await Site.select(Site.id)
        .where(Site.territoire == territoire_id, Site.actif.eq(True))
        .order_by(Site.id)
    ]
    found: dict[str, list[int]] = {"all": every}
    for code in charge_rdv.MOTIFS:
        rows = await (
            SiteService.select(SiteService.site)
            .where(
                SiteService.service.code == code,
                SiteService.service.territoire == territoire_id,
                SiteService.site.actif.eq(True),
            )
            .order_by(SiteService.site)
        )
        offering = [row["site"] for row in rows]
        random.Random(SEED).shuffle(offering)
        found[code] = offering
    return found


async def _charger(motif_id: int, site_ids: list[int], debut: datetime, fin: datetime) -> Any:
    """The five queries of a search, in one read snapshot."""
    from plateforme.db import lecture
    from rdv.services.chargement import charger, motif_info

    async with lecture():
        motif = await motif_info(motif_id)
        return await charger(motif, debut=debut, fin=fin, site_ids=site_ids)


def _horizon(maintenant: datetime) -> datetime:
    return maintenant + timedelta(weeks=charge_rdv.SEMAINES)


async def checks(charge: charge_rdv.Charge, sites: dict[str, list[int]]) -> dict[str, Any]:
    """What the measured calls load and return."""
    from rdv.services import recherche

    found: dict[str, Any] = {}
    for code, motif_id in charge.motifs.items():
        maintenant = datetime.now(UTC)
        contexte = await _charger(motif_id, sites["all"], maintenant, _horizon(maintenant))
        prochains = contexte.prochains(maintenant, _horizon(maintenant), maintenant)
        delais = [(c.debut - maintenant) / timedelta(days=1) for c in prochains.values()]
        vides, nombres = 0, []
        for site in sites[code]:
            semaine = await recherche.semaine(motif_id, site)
            nombre = sum(len(jour.creneaux) for jour in semaine.jours)
            vides += nombre == 0
            nombres.append(nombre)
        found[code] = {
            "plages": len(contexte.plages),
            "absences": len(contexte.absences),
            "occupations": len(contexte.occupations),
            "sites_searched": len(sites["all"]),
            "sites_with_plages": len({p.site_id for p in contexte.plages}),
            "sites_with_creneau": len(prochains),
            "days_to_next_median": statistics.median(delais) if delais else None,
            "days_to_next_max": max(delais) if delais else None,
            "week_sites": len(sites[code]),
            "week_creneaux_median": statistics.median(nombres),
            "week_empty": vides,
        }
    return found


async def next_availability(
    charge: charge_rdv.Charge, sites: dict[str, list[int]], calls: int
) -> list[Benchmark]:
    benchmarks = []
    for code, motif_id in charge.motifs.items():

        async def load(i: int, motif_id: int = motif_id) -> object:
            maintenant = datetime.now(UTC)
            return await _charger(motif_id, sites["all"], maintenant, _horizon(maintenant))

        loaded: dict[str, Any] = {}

        async def reload(motif_id: int = motif_id, loaded: dict[str, Any] = loaded) -> None:
            maintenant = datetime.now(UTC)
            loaded["contexte"] = await _charger(
                motif_id, sites["all"], maintenant, _horizon(maintenant)
            )

        async def compute(i: int, loaded: dict[str, Any] = loaded) -> object:
            maintenant = datetime.now(UTC)
            return loaded["contexte"].prochains(maintenant, _horizon(maintenant), maintenant)

        async def whole(i: int, motif_id: int = motif_id) -> object:
            # What the search does: the coming week first, then the rest of the
            # 8 weeks for the sites still without a créneau.
            from plateforme.db import lecture
            from rdv.services.chargement import motif_info
            from rdv.services.recherche import prochains_par_site

            maintenant = datetime.now(UTC)
            async with lecture():
                motif = await motif_info(motif_id)
                return await prochains_par_site(
                    motif, sites["all"], maintenant, _horizon(maintenant)
                )

        maintenant = datetime.now(UTC)
        contexte = await _charger(motif_id, sites["all"], maintenant, _horizon(maintenant))
        agents = sorted({p.agent_id for p in contexte.plages})

        async def raw(i: int, agents: list[int] = agents) -> object:
            maintenant = datetime.now(UTC)
            return await _rdvs_bruts(agents, maintenant, _horizon(maintenant))

        floor = f"its rdv query alone, integers, driver, {code}"
        baseline = f"the five queries, {code}"
        benchmarks += [
            Benchmark(floor, "in-process", raw, calls=calls, warm_up=2),
            Benchmark(baseline, "in-process", load, floor, calls=calls, warm_up=2),
            Benchmark(
                f"engine alone, {code}", "in-process", compute, calls=calls, warm_up=2,
                before=reload,
            ),
            Benchmark(
                f"next availability, {code}", "in-process", whole, baseline, TARGET_PROCHAINS,
                calls=calls, warm_up=2,
            ),
        ]  # fmt: skip
    return benchmarks


async def _rdvs_bruts(agents: list[int], debut: datetime, fin: datetime) -> list[Any]:
    """The rows of `charger`'s biggest query (the active rdvs of the agents in the window),
    instants as epoch seconds, straight from the driver: no Piccolo query to build, no
    dict per row, no datetime to parse. The floor of what loading them can cost."""
    from plateforme.db import engine, is_sqlite, lecture

    actifs = "('a_venir', 'vu', 'absent')"
    if is_sqlite():
        marques = ", ".join("?" for _ in agents)
        sql = f"""SELECT agent, CAST(strftime('%s', debut) AS INTEGER) AS debut,
            CAST(strftime('%s', fin) AS INTEGER) AS fin FROM rdv
            WHERE agent IN ({marques}) AND statut IN {actifs} AND debut < ? AND fin > ?"""
        async with lecture():
            transaction = engine().current_transaction.get()
            # Piccolo's SQLite adapters turn the instants into its stored text.
            cursor = await transaction.connection.cursor()
            cursor.row_factory = None  # tuples, not Piccolo's dicts
            await cursor.execute(sql, [*agents, fin, debut])
            return list(await cursor.fetchall())
    sql = f"""SELECT agent, extract(epoch FROM debut)::bigint AS debut,
        extract(epoch FROM fin)::bigint AS fin FROM rdv
        WHERE agent = ANY($1) AND statut IN {actifs} AND debut < $2 AND fin > $3"""
    async with engine().pool.acquire() as connection:
        return list(await connection.fetch(sql, agents, fin, debut))


def week_views(
    charge: charge_rdv.Charge,
    sites: dict[str, list[int]],
    client: httpx.AsyncClient,
    calls: int,
) -> list[Benchmark]:
    zone = ZoneInfo(charge.fuseau)

    def suivant(code: str) -> Callable[[], int]:
        # Each benchmark walks its list from the start: a baseline and its benchmark see
        # the same sites in the same order.
        counter = itertools.count()
        return lambda: sites[code][next(counter) % len(sites[code])]

    def loading(code: str) -> Callable[[int], Awaitable[object]]:
        site = suivant(code)

        async def call(i: int) -> object:
            jour = datetime.now(zone).date()
            debut = datetime.combine(jour, heure(0), tzinfo=zone)
            return await _charger(charge.motifs[code], [site()], debut, debut + timedelta(days=7))

        return call

    def semaine(code: str) -> Callable[[int], Awaitable[object]]:
        from rdv.services import recherche

        site = suivant(code)

        async def call(i: int) -> object:
            return await recherche.semaine(charge.motifs[code], site())

        return call

    async def health(i: int) -> object:
        return await _get(client, "/health")

    def http(code: str) -> Callable[[int], Awaitable[object]]:
        site = suivant(code)

        async def call(i: int) -> object:
            return await _get(client, f"/api/motifs/{charge.motifs[code]}/sites/{site()}/creneaux")

        return call

    benchmarks = []
    for code in ("social", "pmi"):
        baseline = f"loading alone, {code}"
        benchmarks += [
            Benchmark(baseline, "in-process", loading(code), calls=calls, warm_up=WARM_UP),
            Benchmark(
                f"week view, {code}", "in-process", semaine(code), baseline, TARGET_SEMAINE,
                calls=calls, warm_up=WARM_UP,
            ),
        ]  # fmt: skip
    http_baseline = "GET /health (SELECT 1)"
    benchmarks += [
        Benchmark(http_baseline, "HTTP", health, calls=calls, warm_up=WARM_UP),
        Benchmark(
            "GET …/sites/{s}/creneaux, social", "HTTP", http("social"), http_baseline,
            TARGET_SEMAINE, calls=calls, warm_up=WARM_UP,
        ),
    ]  # fmt: skip
    return benchmarks


async def _get(client: httpx.AsyncClient, url: str) -> object:
    response = await client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{response.url} answered {response.status_code}")
    return response


def section(results: list[dict[str, Any]]) -> Iterator[str]:
    charge = results[0]["charge"]
    yield ABOUT.format(
        seed=charge_rdv.SEED,
        pmi=charge_rdv.MOTIFS["pmi"][0],
        pmi_min=charge_rdv.MOTIFS["pmi"][1],
        social=charge_rdv.MOTIFS["social"][0],
        social_min=charge_rdv.MOTIFS["social"][1],
        agents=charge["agents"],
        renforts=charge["renforts"],
        demo=charge["agents"] - charge["renforts"],
        plages=charge["plages"],
        absences=charge["absences"],
        usagers=charge["usagers"],
        rdvs=charge["rdvs"],
        par_semaine=", ".join(f"{n:,}" for n in charge["rdvs_par_semaine"]),
        pris_pmi=_shares(charge["pris_par_semaine"]["pmi"]),
        pris_social=_shares(charge["pris_par_semaine"]["social"]),
        pleins=charge["sites_pleins_semaine_1"]["social"],
        generation=charge["secondes"]["total"],
        inserts=charge["secondes"]["usagers and rdvs (bulk inserts)"],
        heavy=results[0]["calls"]["heavy"],
        light=results[0]["calls"]["light"],
    )
    for result in results:
        yield from ["", f"### {result['engine']}", ""]
        secondes = result["charge"]["secondes"]
        yield (
            "Load generated in "
            + ", ".join(f"{step} {s:.1f} s" for step, s in secondes.items())
            + "."
        )
        yield ""
        yield from runner.latency_table(result, result["results"])
        yield ""
        yield _checks(result)


def _shares(values: list[float]) -> str:
    return " ".join(f"{v:.0%}" for v in values)


def _checks(result: dict[str, Any]) -> str:
    parts = []
    for code, check in result["checks"].items():
        parts.append(
            f"`{code}`: the search loads {check['plages']} plages at"
            f" {check['sites_with_plages']} of the {check['sites_searched']} sites,"
            f" {check['absences']} absences and {check['occupations']:,} rdvs of their"
            f" agents, and finds a next créneau at {check['sites_with_creneau']} sites"
            f" ({check['days_to_next_median']:.1f} days ahead in the median, at most"
            f" {check['days_to_next_max']:.1f}); its week views show"
            f" {check['week_creneaux_median']:g} créneaux in the median, none at"
            f" {check['week_empty']} of {check['week_sites']} sites (which then load up to"
            " the horizon for the next one)."
        )
    return " ".join(parts)


def targets(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    return runner.latency_targets(result)


if __name__ == "__main__":
    runner.main("bench.rdv_search", bench)

"""A realistic booking load on the demo's Haute-Garonne, the same for a seed and a moment.

On top of `seed_demo`: two motifs open to online booking (pmi and social), 400 agents
(the demo's 299 agents of the 31 who have sites, plus reinforcements in the centres)
with weekly plages, a few weeks of leave, a pool of usagers and 30,000 rdvs over the next
8 weeks. The rdvs lie on free grid positions computed in memory by the slot engine
(`rdv.creneaux.creneaux_libres`), drawn with a weight that falls with the distance in
days (agendas fill up near term first), then bulk-inserted in batches inside write
transactions, with their participant and history rows, as `reserver` would write them.

`python -m bench.charge_rdv --database-url URL` loads the demo and this load into an
empty database and prints what it created and how long it took.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import io
import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as heure
from typing import Any
from zoneinfo import ZoneInfo

from bench import database

SEED = 2026
SEMAINES = 8
AGENTS = 400
RDVS = 30_000
USAGERS = 20_000
# Share of the agents who take one week of leave within the 8 weeks.
CONGES = 0.15
# Weight of a free position d days ahead: exp(-d / DECROISSANCE).
DECROISSANCE = 14.0
BATCH = 500
# Rdvs per write transaction (with their participant and history rows).
LOT = 2_000
HAUTE_GARONNE = "Conseil départemental de la Haute-Garonne"
MOTIFS = {
    # service code: (nom, minutes)
    "pmi": ("Consultation nourrisson", 30),
    "social": ("Premier accueil social", 45),
}
DELAI_MAX_JOURS = 60
MATIN = (heure(9, 0), heure(12, 0))
APRES_MIDI = (heure(13, 30), heure(17, 0))
JOURS_RFC = ("MO", "TU", "WE", "TH", "FR")
PRENOMS = "Camille Léa Manon Chloé Emma Inès Sarah Julie Thomas Nicolas Julien Karim".split()
NOMS = "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Garcia".split()


@dataclass
class Charge:
    """What the generator created, and how long each step took (seconds)."""

    motifs: dict[str, int]  # service code -> motif id
    territoire_id: int
    fuseau: str
    maintenant: str
    agents: int = 0
    renforts: int = 0
    plages: int = 0
    absences: int = 0
    usagers: int = 0
    rdvs: int = 0
    rdvs_par_semaine: list[int] = field(default_factory=list)
    # Per motif: its grid positions over the 8 weeks before the rdvs, then, read back
    # through rdv.services.chargement, the share of them taken in each week, and the
    # sites offering it with no free créneau left in the first week.
    positions_libres: dict[str, int] = field(default_factory=dict)
    pris_par_semaine: dict[str, list[float]] = field(default_factory=dict)
    sites: dict[str, int] = field(default_factory=dict)
    sites_pleins_semaine_1: dict[str, int] = field(default_factory=dict)
    secondes: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Agent:
    id: int
    sites: tuple[int, ...]
    services: tuple[str, ...]


async def charger_demo(seed: int = SEED, maintenant: datetime | None = None) -> Charge:
    """Add the load to a database holding the demo (and nothing of this load yet)."""
    from rdv import creneaux
    from sites.services.jours_feries import jours_feries
    from sites.tables import Territoire

    started = time.monotonic()
    maintenant = maintenant or datetime.now(UTC)
    rng = random.Random(seed)
    territoire = (
        await Territoire.select(Territoire.id, Territoire.fuseau_horaire)
        .where(Territoire.nom == HAUTE_GARONNE)
        .first()
    )
    assert territoire is not None, "load the demo first"
    zone = ZoneInfo(territoire["fuseau_horaire"])
    services, kinds = await _services_et_sites(territoire["id"])
    motifs = await _motifs(services)
    charge = Charge(
        motifs={code: regles.id for code, regles in motifs.items()},
        territoire_id=territoire["id"],
        fuseau=str(zone),
        maintenant=maintenant.isoformat(),
    )
    agents = await _agents(territoire["id"], kinds, services, rng)
    charge.agents = len(agents)
    charge.renforts = sum(1 for a in agents if a.id < 0)
    agents = await _inserer_renforts(territoire["id"], agents, services)
    aujourdhui = maintenant.astimezone(zone).date()
    plages = await _plages(agents, kinds, motifs, aujourdhui, rng)
    charge.plages = len(plages)
    absences = await _absences(agents, aujourdhui, zone, rng)
    charge.absences = len(absences)
    charge.secondes["agents, plages and absences"] = time.monotonic() - started

    step = time.monotonic()
    fin = maintenant + timedelta(weeks=SEMAINES)
    feries = set(jours_feries("31", range(aujourdhui.year, aujourdhui.year + 2)))
    fermes = {site: feries for site in kinds}
    candidats: list[tuple[float, int, int, int, int, str]] = []
    avant: dict[str, Counter[int]] = {}
    for code, regles in motifs.items():
        libres = creneaux.creneaux_libres(
            plages, absences, [], fermes, regles, maintenant, fin, maintenant, str(zone)
        )
        charge.positions_libres[code] = len(libres)
        avant[code] = Counter(_semaine(c.debut, maintenant) for c in libres)
        charge.sites[code] = len({c.site_id for c in libres})
        for c in libres:
            jours = (c.debut - maintenant) / timedelta(days=1)
            # Efraimidis–Spirakis: the largest u^(1/w) make a weighted sample.
            cle = rng.random() ** (1 / math.exp(-jours / DECROISSANCE))
            start, end = _us(c.debut), _us(c.fin)
            candidats.append((cle, start, end, c.agent_id, c.site_id, code))
    candidats.sort(reverse=True)
    choisis = _sans_chevauchement(candidats, RDVS)
    charge.secondes["free positions and draw (in memory)"] = time.monotonic() - step

    step = time.monotonic()
    usagers = await _usagers(territoire["id"], maintenant, rng)
    charge.usagers = len(usagers)
    charge.rdvs = await _rdvs(choisis, motifs, usagers, maintenant, rng)
    charge.secondes["usagers and rdvs (bulk inserts)"] = time.monotonic() - step
    await _analyser()
    charge.secondes["total"] = time.monotonic() - started

    charge.rdvs_par_semaine = [0] * SEMAINES
    for choisi in choisis:
        charge.rdvs_par_semaine[(choisi[1] - _us(maintenant)) // (7 * 86_400_000_000)] += 1
    await _relire(charge, avant, maintenant, fin)
    return charge


async def _analyser() -> None:
    """PostgreSQL's statistics and visibility map, as autovacuum would make them a minute
    later anyway, rather than in the middle of a measure. Not on SQLite: the app never
    runs ANALYZE there, and its planner without statistics is part of what is measured."""
    from plateforme.db import is_sqlite
    from rdv.tables import Rdv

    if not is_sqlite():
        await Rdv.raw("VACUUM ANALYZE")


def _semaine(instant: datetime, maintenant: datetime) -> int:
    return (instant - maintenant) // timedelta(weeks=1)


async def _relire(
    charge: Charge, avant: dict[str, Counter[int]], maintenant: datetime, fin: datetime
) -> None:
    """The free créneaux as the app sees them now, against those before the load."""
    from plateforme.db import lecture
    from rdv.services.chargement import charger, motif_info

    for code, motif_id in charge.motifs.items():
        async with lecture():
            motif = await motif_info(motif_id)
            contexte = await charger(motif, debut=maintenant, fin=fin)
        libres = contexte.libres(maintenant, fin, maintenant)
        apres = Counter(_semaine(c.debut, maintenant) for c in libres)
        charge.pris_par_semaine[code] = [
            round(1 - apres[w] / avant[code][w], 3) if avant[code][w] else 0.0
            for w in range(SEMAINES)
        ]
        ouverts = {c.site_id for c in libres if _semaine(c.debut, maintenant) == 0}
        charge.sites_pleins_semaine_1[code] = charge.sites[code] - len(ouverts)


def _us(instant: datetime) -> int:
    return (instant - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


async def _services_et_sites(territoire_id: int) -> tuple[dict[str, int], dict[int, str]]:
    from sites.tables import Service, Site

    rows = await Service.select(Service.id, Service.code).where(Service.territoire == territoire_id)
    services = {row["code"]: row["id"] for row in rows}
    sites = await Site.select(Site.id, Site.kind).where(
        Site.territoire == territoire_id, Site.actif.eq(True)
    )
    return services, {row["id"]: row["kind"] for row in sites}


async def _motifs(services: dict[str, int]) -> dict[str, Any]:
    from plateforme.db import write_transaction
    from rdv import creneaux
    from rdv.tables import Motif

    rows = [
        Motif(
            service=services[code],
            nom=nom,
            duree_minutes=minutes,
            reservable_en_ligne=True,
            delai_min_minutes=0,
            delai_max_jours=DELAI_MAX_JOURS,
        )
        for code, (nom, minutes) in MOTIFS.items()
    ]
    async with write_transaction():
        await Motif.insert(*rows)
    return {
        code: creneaux.MotifRegles(
            id=int(row.id),
            duree=timedelta(minutes=row.duree_minutes),
            delai_min=timedelta(0),
            delai_max=timedelta(days=DELAI_MAX_JOURS),
        )
        for code, row in zip(MOTIFS, rows, strict=True)
    }


async def _agents(
    territoire_id: int, kinds: dict[int, str], services: dict[str, int], rng: random.Random
) -> list[_Agent]:
    """The demo's agents of the 31 with their sites, then reinforcements (negative ids, not
    inserted yet) in the centres, in proportion to their staff, up to AGENTS."""
    from sites.tables import Agent, AgentService, AgentSite

    codes = {service_id: code for code, service_id in services.items()}
    ids = [
        row["id"]
        for row in await Agent.select(Agent.id)
        .where(Agent.territoire == territoire_id, Agent.actif.eq(True))
        .order_by(Agent.id)
    ]
    sites: dict[int, list[int]] = defaultdict(list)
    for row in await AgentSite.select(AgentSite.agent, AgentSite.site).order_by(AgentSite.id):
        if row["site"] in kinds:
            sites[row["agent"]].append(row["site"])
    offered: dict[int, list[str]] = defaultdict(list)
    for row in await AgentService.select(AgentService.agent, AgentService.service).order_by(
        AgentService.id
    ):
        if row["service"] in codes:
            offered[row["agent"]].append(codes[row["service"]])
    agents = [_Agent(i, tuple(sites[i]), tuple(offered[i])) for i in ids if sites[i] and offered[i]]
    centres = [a.sites[0] for a in agents if kinds[a.sites[0]] == "centre"]
    for n in range(max(0, AGENTS - len(agents))):
        draw = rng.random()
        services_drawn = (
            ("pmi",) if draw < 0.45 else ("social",) if draw < 0.9 else ("pmi", "social")
        )
        agents.append(_Agent(-1 - n, (rng.choice(centres),), services_drawn))
    return agents


async def _inserer_renforts(
    territoire_id: int, agents: list[_Agent], services: dict[str, int]
) -> list[_Agent]:
    from plateforme.db import write_transaction
    from sites.tables import Agent, AgentService, AgentSite

    renforts = [a for a in agents if a.id < 0]
    if not renforts:
        return agents
    # The demo's password hash: argon2 takes ~50 ms a hash.
    modele = await Agent.select(Agent.mot_de_passe).where(Agent.territoire == territoire_id).first()
    assert modele is not None
    rows = [
        Agent(
            territoire=territoire_id,
            prenom=PRENOMS[-a.id % len(PRENOMS)],
            nom=NOMS[-a.id % len(NOMS)],
            email=f"renfort.{-a.id}@demo.rdv-file.fr",
            mot_de_passe=modele["mot_de_passe"],
        )
        for a in renforts
    ]
    async with write_transaction():
        await Agent.insert(*rows)
        ids = {a.id: int(row.id) for a, row in zip(renforts, rows, strict=True)}
        await AgentSite.insert(*(AgentSite(agent=ids[a.id], site=a.sites[0]) for a in renforts))
        await AgentService.insert(
            *(
                AgentService(agent=ids[a.id], service=services[c])
                for a in renforts
                for c in a.services
            )
        )
    return [_Agent(ids.get(a.id, a.id), a.sites, a.services) for a in agents]


async def _plages(
    agents: list[_Agent],
    kinds: dict[int, str],
    motifs: dict[str, Any],
    aujourdhui: date,
    rng: random.Random,
) -> list[Any]:
    """Centre staff: 3 to 5 weekdays, morning, afternoon or both, one plage per half-day.
    Town-hall permanences: one half-day a week at each of the agent's town halls, every
    week or every other week. The plages started on a Monday up to a year ago."""
    from plateforme.db import write_transaction
    from rdv import creneaux
    from rdv.tables import PlageMotif, PlageOuverture

    lundi = aujourdhui - timedelta(days=aujourdhui.weekday())
    prevues: list[tuple[int, int, tuple[heure, heure], str, date, frozenset[int]]] = []
    for agent in agents:
        ids = frozenset(motifs[code].id for code in agent.services if code in motifs)
        for rang, site in enumerate(agent.sites):
            # Centres offer pmi and social; town halls social only.
            offerts = ids if kinds[site] == "centre" else ids & {motifs["social"].id}
            if not offerts:
                continue
            debut = lundi - timedelta(weeks=rng.randrange(1, 53))
            if kinds[site] == "centre":
                jours = sorted(rng.sample(range(5), rng.randint(3, 5)))
                matins = [j for j in jours if rng.random() < 0.75]
                apres_midi = [j for j in jours if j not in matins or rng.random() < 0.65]
                for creneau, choisis in ((MATIN, matins), (APRES_MIDI, apres_midi)):
                    if choisis:
                        regle = "FREQ=WEEKLY;BYDAY=" + ",".join(JOURS_RFC[j] for j in choisis)
                        prevues.append((agent.id, site, creneau, regle, debut, offerts))
            else:
                creneau = MATIN if rng.random() < 0.5 else APRES_MIDI
                intervalle = ";INTERVAL=2" if rng.random() < 0.4 else ""
                regle = f"FREQ=WEEKLY{intervalle};BYDAY={JOURS_RFC[rang % 5]}"
                prevues.append((agent.id, site, creneau, regle, debut, offerts))
    rows = [
        PlageOuverture(
            agent=agent_id,
            site=site,
            titre="Permanence",
            heure_debut=h[0],
            heure_fin=h[1],
            premier_jour=debut,
            rrule=regle,
        )
        for agent_id, site, h, regle, debut, _ in prevues
    ]
    async with write_transaction():
        for start in range(0, len(rows), BATCH):
            await PlageOuverture.insert(*rows[start : start + BATCH])
        liens = [
            PlageMotif(plage=row.id, motif=motif)
            for row, plan in zip(rows, prevues, strict=True)
            for motif in sorted(plan[5])
        ]
        for start in range(0, len(liens), BATCH):
            await PlageMotif.insert(*liens[start : start + BATCH])
    return [
        creneaux.PlageOuverture(
            id=int(row.id),
            agent_id=agent_id,
            site_id=site,
            motif_ids=offerts,
            heure_debut=h[0],
            heure_fin=h[1],
            premier_jour=debut,
            rrule=regle,
            fin=None,
        )
        for row, (agent_id, site, h, regle, debut, offerts) in zip(rows, prevues, strict=True)
    ]


async def _absences(
    agents: list[_Agent], aujourdhui: date, zone: ZoneInfo, rng: random.Random
) -> list[Any]:
    """A week of leave, Monday to Friday, for CONGES of the agents."""
    from plateforme.db import write_transaction
    from rdv import creneaux
    from rdv.tables import Absence

    lundi = aujourdhui - timedelta(days=aujourdhui.weekday())
    found = []
    for agent in rng.sample(agents, round(CONGES * len(agents))):
        premier = lundi + timedelta(weeks=rng.randrange(1, SEMAINES))
        debut = datetime.combine(premier, heure(0, 0), tzinfo=zone)
        fin = datetime.combine(premier + timedelta(days=5), heure(0, 0), tzinfo=zone)
        found.append(creneaux.Absence(agent_id=agent.id, debut=debut, fin=fin))
    rows = [Absence(agent=a.agent_id, titre="Congés", debut=a.debut, fin=a.fin) for a in found]
    async with write_transaction():
        await Absence.insert(*rows)
    return found


def _sans_chevauchement(
    candidats: list[tuple[float, int, int, int, int, str]], nombre: int
) -> list[tuple[float, int, int, int, int, str]]:
    """The first `nombre` candidates that do not overlap an earlier one of the same agent
    (the pmi and social grids of one plage overlap)."""
    occupe: dict[int, list[tuple[int, int]]] = defaultdict(list)
    choisis = []
    for candidat in candidats:
        _, start, end, agent, _, _ = candidat
        intervalles = occupe[agent]
        i = bisect.bisect_left(intervalles, (start, end))
        if i > 0 and intervalles[i - 1][1] > start:
            continue
        if i < len(intervalles) and intervalles[i][0] < end:
            continue
        intervalles.insert(i, (start, end))
        choisis.append(candidat)
        if len(choisis) == nombre:
            break
    return choisis


async def _inserer(table: str, colonnes: tuple[str, ...], lignes: list[tuple[Any, ...]]) -> None:
    """executemany on the connection of the current write transaction: Piccolo's insert
    builds a Table object and a query string per row, ten times slower here. Instants go
    through the adapters Piccolo registers for SQLite, as with its own queries."""
    from plateforme.db import engine, is_sqlite

    transaction = engine().current_transaction.get()
    assert transaction is not None, "inside write_transaction() only"
    if is_sqlite():
        marques = ", ".join("?" for _ in colonnes)
    else:
        marques = ", ".join(f"${i}" for i in range(1, len(colonnes) + 1))
    noms = ", ".join(f'"{nom}"' for nom in colonnes)
    await transaction.connection.executemany(
        f"INSERT INTO {table} ({noms}) VALUES ({marques})", lignes
    )


async def _usagers(territoire_id: int, maintenant: datetime, rng: random.Random) -> list[int]:
    from plateforme.db import write_transaction
    from rdv.tables import Usager

    colonnes = ("territoire", "prenom", "nom", "telephone", "email", "created_at")
    lignes = [
        # Distinct valid French mobiles, 06 10 00 00 00 upwards.
        (territoire_id, rng.choice(PRENOMS), rng.choice(NOMS), f"+3361{n:07d}", "", maintenant)
        for n in range(USAGERS)
    ]
    async with write_transaction():
        await _inserer("usager", colonnes, lignes)
        rows = await Usager.select(Usager.id).where(Usager.territoire == territoire_id)
    return sorted(row["id"] for row in rows)


async def _rdvs(
    choisis: list[tuple[float, int, int, int, int, str]],
    motifs: dict[str, Any],
    usagers: list[int],
    maintenant: datetime,
    rng: random.Random,
) -> int:
    from plateforme.db import write_transaction
    from rdv.services.reservation import CODE_ALPHABET, CODE_LENGTH
    from rdv.tables import Rdv

    colonnes = (
        "motif", "site", "agent", "debut", "fin", "statut", "code", "canal_creation",
        "collectif", "sequence", "created_at", "updated_at",
    )  # fmt: skip
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    codes: set[str] = set()
    # By start: the order in which the bookings would come, roughly.
    choisis = sorted(choisis, key=lambda c: (c[1], c[3]))
    for start in range(0, len(choisis), LOT):
        lignes = []
        for _, debut_us, fin_us, agent, site, code in choisis[start : start + LOT]:
            while True:
                tire = "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                if tire not in codes:
                    codes.add(tire)
                    break
            debut = epoch + timedelta(microseconds=debut_us)
            fin = epoch + timedelta(microseconds=fin_us)
            lignes.append(
                (motifs[code].id, site, agent, debut, fin, "a_venir", tire, "en_ligne",
                 False, 0, maintenant, maintenant)
            )  # fmt: skip
        async with write_transaction():
            await _inserer("rdv", colonnes, lignes)
            ids = {
                row["code"]: row["id"]
                for row in await Rdv.select(Rdv.id, Rdv.code).where(
                    Rdv.code.is_in([ligne[6] for ligne in lignes])
                )
            }
            # The participant of an individual rdv shares its code.
            await _inserer(
                "rdv_participant",
                ("rdv", "usager", "code", "created_at", "updated_at"),
                [
                    (ids[ligne[6]], rng.choice(usagers), ligne[6], maintenant, maintenant)
                    for ligne in lignes
                ],
            )
            await _inserer(
                "rdv_historique",
                ("rdv", "evenement", "statut", "debut", "acteur", "details", "at"),
                [
                    (
                        ids[ligne[6]],
                        "cree",
                        "a_venir",
                        ligne[3],
                        "usager",
                        '{"canal": "en_ligne"}',
                        maintenant,
                    )
                    for ligne in lignes
                ],  # fmt: skip
            )
    return len(choisis)


async def preparer() -> tuple[dict[str, int], Charge]:
    """Migrations, communes, demo, then the load: rows of the demo and the load's report."""
    from plateforme import db
    from plateforme.settings import get_settings

    # Piccolo's migration report would drown the progress lines.
    with contextlib.redirect_stdout(io.StringIO()):
        rows = await database.load_demo()
    await db.start(get_settings())
    try:
        charge = await charger_demo()
    finally:
        await db.stop()
    return rows, charge


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.charge_rdv", description=__doc__)
    parser.add_argument("--database-url", required=True, help="an empty database")
    args = parser.parse_args()
    database.use(args.database_url)
    started = time.monotonic()
    rows, charge = asyncio.run(preparer())
    print(f"demo: {rows}, {time.monotonic() - started:.1f} s in all")
    for key, value in charge.as_dict().items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()

"""The `seed-demo` command: two territoires built from the real public data, idempotent."""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from plateforme.db import write_transaction
from plateforme.errors import Conflict
from plateforme.passwords import hash_password
from sites.services.communes import normalise, positions_corrigees
from sites.services.horaires import JOURS
from sites.services.importer import (
    REQUIRED,
    SiteRow,
    communes_positions,
    insert_missing,
    lire_csv,
    lire_fichier,
    parse_sites_csv,
    site_values,
    upsert_sites,
)
from sites.services.proximite import distance_km
from sites.tables import (
    Agent,
    AgentService,
    AgentSite,
    Commune,
    Sectorisation,
    Service,
    SiteService,
    Territoire,
)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

# Demo credentials, quoted by the README. Demo only: never on a real territoire.
DOMAINE = "demo.rdv-file.fr"
MOT_DE_PASSE_AGENTS = "demo-agent-2026"
ADMIN_HAUTE_GARONNE = ("admin.haute-garonne@demo.rdv-file.fr", "demo-admin-31-2026")
ADMIN_HAUTS_DE_FRANCE = ("admin.hauts-de-france@demo.rdv-file.fr", "demo-admin-32-2026")
RESPONSABLE_COLOMIERS = ("responsable.colomiers@demo.rdv-file.fr", "demo-responsable-2026")

HAUTE_GARONNE = "Conseil départemental de la Haute-Garonne"
HAUTS_DE_FRANCE = "Région Hauts-de-France"
DEPARTEMENTS_HAUTS_DE_FRANCE = ("02", "59", "60", "62", "80")
# Amiens, Château-Thierry, Clermont, Hazebrouck, Frévent, Lille, Arras, Beauvais,
# Saint-Quentin, Dunkerque, Compiègne, Valenciennes.
ANTENNES = (
    "80021", "02168", "60157", "59295", "62361", "59350",
    "62041", "60057", "02691", "59183", "60159", "59606",
)  # fmt: skip
SEUIL_MDS = 10_000  # a Maison des Solidarités in every commune of the 31 above this population
COLOMIERS, TOULOUSE = "31149", "31555"
HORAIRES_MDS = {jour: [["08:30", "12:30"], ["13:30", "17:30"]] for jour in JOURS[:5]}
HORAIRES_ANTENNE = {jour: [["09:00", "12:00"], ["13:30", "17:00"]] for jour in JOURS[:5]}
ACCESSIBILITE = (
    "Accès de plain-pied, toilettes adaptées aux fauteuils roulants, boucle magnétique à l'accueil."
)

PRENOMS = """Camille Léa Manon Chloé Emma Inès Sarah Julie Laura Marie Anne Claire Sophie Nathalie
Isabelle Céline Aurélie Émilie Hélène Lucie Nadia Fatima Sandrine Valérie Élodie Thomas Nicolas
Julien Maxime Antoine Pierre Alexandre Mathieu Sébastien Romain Karim Olivier David Laurent
Philippe François Hugo Lucas Mehdi Vincent Éric Jérôme Benoît Yann""".split()
NOMS = """Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent
Lefebvre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre Mercier
Dupont Lambert Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry
Roussel Nicolas Perrin Morin Mathieu Clément Gauthier Dumont Lopez Fontaine Chevalier Robin
Masson Sanchez Gérard Nguyen Boyer Denis Lemaire Duval Joly Gautier Roger Roche Roy Noël Meyer
Lucas Meunier Jean Perez Marchand Dufour Blanchard Marie Barbier Brun Dumas Brunet Schmitt
Leroux Colin Fernandez Pierre Renard Arnaud Rolland Caron Aubert Giraud Leclerc Vidal Bourgeois
Renaud Lemoine Picard Gaillard Philippe Lacroix Dupuis Olivier Louis Guillaume Rivière""".split()


class CommunesManquantes(Conflict):
    code = "communes_manquantes"
    default_message = (
        "Les communes ne sont pas importées : lancez d'abord « python -m plateforme "
        "import-communes »."
    )


@dataclass(frozen=True)
class DemoReport:
    """How many rows of each kind this run created (all zero on a second run)."""

    territoires: int = 0
    services: int = 0
    sites: int = 0
    agents: int = 0
    sectorisations: int = 0

    def __add__(self, other: DemoReport) -> DemoReport:
        return DemoReport(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


@dataclass(frozen=True)
class _AgentPlan:
    email: str
    prenom: str
    nom: str
    mot_de_passe: str
    role: str = "agent"
    sites: tuple[str, ...] = ()  # references
    services: tuple[str, ...] = ()  # codes


@dataclass
class _Plan:
    """What one territoire should contain, computed from the files before any write."""

    nom: str
    kind: str
    code: str
    services: dict[str, str]  # code -> nom
    sites: dict[str, dict[str, Any]] = field(default_factory=dict)  # reference -> columns
    site_services: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sectorisation: list[tuple[int, str, str]] = field(default_factory=list)  # commune, service, ref
    agents: list[_AgentPlan] = field(default_factory=list)

    def add_site(self, reference: str, values: dict[str, Any], services: tuple[str, ...]) -> None:
        self.sites[reference] = values
        self.site_services[reference] = services


class _Noms:
    """Fictitious agents, the same on every run: one seeded generator, drawn in a fixed order."""

    def __init__(self) -> None:
        self.rng = random.Random(2026)
        self.count = 0

    def agent(self, *, sites: tuple[str, ...], services: tuple[str, ...]) -> _AgentPlan:
        prenom, nom = self.rng.choice(PRENOMS), self.rng.choice(NOMS)
        self.count += 1
        email = f"{_slug(prenom)}.{_slug(nom)}.{self.count}@{DOMAINE}"
        return _AgentPlan(email, prenom, nom, MOT_DE_PASSE_AGENTS, sites=sites, services=services)

    def services_centre(self) -> tuple[str, ...]:
        draw = self.rng.random()
        return ("pmi",) if draw < 0.45 else ("social",) if draw < 0.9 else ("pmi", "social")


async def seed_demo(data_dir: Path = DATA_DIR) -> DemoReport:
    """Create what is missing of the two demo territoires, in one transaction."""
    positions = await communes_positions()
    mairies_31 = lire_fichier(data_dir / "mairies-haute-garonne.csv")
    mairies_hdf = lire_fichier(data_dir / "mairies-hauts-de-france.csv")
    needed = {raw["code_insee"] for _, raw in lire_csv(mairies_31, required=REQUIRED)}
    if not needed.union(ANTENNES) <= positions.keys():
        raise CommunesManquantes()
    known = {code: position for code, (_, position) in positions.items()}
    rows_31 = parse_sites_csv(mairies_31, known)
    # Only the twelve antennes' town halls (some others have overlapping hours).
    rows_hdf = parse_sites_csv(mairies_hdf, known, only=ANTENNES)
    noms = _Noms()
    plans = [
        _haute_garonne(rows_31, await _communes(("31",)), noms),
        _hauts_de_france(rows_hdf, await _communes(DEPARTEMENTS_HAUTS_DE_FRANCE), noms),
    ]
    hashes: dict[str, str] = {}
    report = DemoReport()
    async with write_transaction():
        for plan in plans:
            report += await _write(plan, hashes)
    return report


async def _communes(departements: Sequence[str]) -> list[dict[str, Any]]:
    return await Commune.select(
        Commune.id, Commune.insee, Commune.nom, Commune.departement, Commune.codes_postaux,
        Commune.latitude, Commune.longitude, Commune.population,
    ).where(Commune.departement.is_in(list(departements))).order_by(Commune.insee)  # fmt: skip


def _haute_garonne(mairies: list[SiteRow], communes: list[dict[str, Any]], noms: _Noms) -> _Plan:
    plan = _Plan(HAUTE_GARONNE, "departement", "31", {
        "pmi": "Protection maternelle et infantile (PMI)", "social": "Action sociale",
    })  # fmt: skip
    ids = {commune["insee"]: commune["id"] for commune in communes}
    mairie = {row.code_insee: row for row in mairies}
    for row in mairies:
        values = site_values(row, commune_id=ids[row.code_insee], kind="permanence")
        plan.add_site(row.reference, values, ("social",))
    centres: dict[str, tuple[float, float]] = {}
    for commune in communes:
        if commune["population"] > SEUIL_MDS and commune["insee"] in mairie:
            row, reference = mairie[commune["insee"]], f"demo:mds:{commune['insee']}"
            centres[reference] = (row.latitude, row.longitude)
            nom = f"Maison des Solidarités {_de(commune['nom'])}"
            values = _site(row, commune["id"], "centre", nom, HORAIRES_MDS)
            plan.add_site(reference, values, ("pmi", "social"))
    positions = positions_corrigees(communes)
    for commune in communes:
        if commune["insee"] in positions:
            nearest = _nearest(positions[commune["insee"]], centres)
            plan.sectorisation += [
                (commune["id"], "pmi", nearest),
                (commune["id"], "social", nearest),
            ]
        if commune["insee"] in mairie:
            plan.sectorisation.append((commune["id"], "social", f"mairie:{commune['insee']}"))
    for reference in centres:
        for _ in range(30 if reference.endswith(TOULOUSE) else 10):
            plan.agents.append(noms.agent(sites=(reference,), services=noms.services_centre()))
    # Grouped by the corrected positions: one town hall of the source is 300 km away.
    permanences = {
        row.reference: positions.get(row.code_insee, (row.latitude, row.longitude))
        for row in mairies
    }
    for group in _groupes(permanences, size=5):
        plan.agents.append(noms.agent(sites=tuple(group), services=("social",)))
    email, password = ADMIN_HAUTE_GARONNE
    plan.agents.append(
        _AgentPlan(email, "Sophie", "Garrigues", password, "admin", services=("pmi", "social"))
    )
    email, password = RESPONSABLE_COLOMIERS
    plan.agents.append(
        _AgentPlan(
            email, "Claire", "Baylac", password, "responsable",
            sites=(f"demo:mds:{COLOMIERS}",), services=("pmi", "social"),
        )
    )  # fmt: skip
    return plan


def _hauts_de_france(mairies: list[SiteRow], communes: list[dict[str, Any]], noms: _Noms) -> _Plan:
    plan = _Plan(
        HAUTS_DE_FRANCE, "region", "32", {"antenne": "Antenne régionale : aides et transports"}
    )
    by_insee = {commune["insee"]: commune for commune in communes}
    mairie = {row.code_insee: row for row in mairies}
    antennes: dict[str, tuple[float, float]] = {}
    for code in ANTENNES:
        row, commune, reference = mairie[code], by_insee[code], f"demo:antenne:{code}"
        antennes[reference] = (row.latitude, row.longitude)
        nom = f"Antenne régionale {_de(commune['nom'])}"
        values = _site(row, commune["id"], "antenne", nom, HORAIRES_ANTENNE)
        plan.add_site(reference, values, ("antenne",))
    for insee, position in positions_corrigees(communes).items():
        plan.sectorisation.append((by_insee[insee]["id"], "antenne", _nearest(position, antennes)))
    for reference in antennes:
        for _ in range(3):
            plan.agents.append(noms.agent(sites=(reference,), services=("antenne",)))
    email, password = ADMIN_HAUTS_DE_FRANCE
    plan.agents.append(
        _AgentPlan(email, "Julien", "Vasseur", password, "admin", services=("antenne",))
    )
    return plan


def _site(
    mairie: SiteRow, commune_id: int, kind: str, nom: str, horaires: dict[str, Any]
) -> dict[str, Any]:
    """A demo site at a real town hall's address, with its own name, hours and phone (none)."""
    return {
        **site_values(mairie, commune_id=commune_id, kind=kind),
        "nom": nom,
        "telephone": "",
        "email": "",
        "horaires": horaires,
        "accessibilite": ACCESSIBILITE,
    }


def _de(nom: str) -> str:
    return f"d'{nom}" if normalise(nom)[:1] in set("aeiouy") else f"de {nom}"


def _slug(text: str) -> str:
    return normalise(text).replace(" ", "-")


def _nearest(position: tuple[float, float], sites: Mapping[str, tuple[float, float]]) -> str:
    return min(sites, key=lambda reference: distance_km(*position, *sites[reference]))


def _groupes(points: Mapping[str, tuple[float, float]], size: int) -> list[list[str]]:
    """Groups of `size` nearby points. Greedy from the outside in, so that the last,
    leftover groups fall where points are dense."""
    middle = (
        statistics.fmean(p[0] for p in points.values()),
        statistics.fmean(p[1] for p in points.values()),
    )
    remaining = dict(
        sorted(points.items(), key=lambda item: -distance_km(item[1][0], item[1][1], *middle))
    )
    groups: list[list[str]] = []
    while remaining:
        reference, position = next(iter(remaining.items()))
        del remaining[reference]
        closest = sorted(remaining, key=lambda other: distance_km(*position, *remaining[other]))
        for other in closest[: size - 1]:
            del remaining[other]
        groups.append([reference, *closest[: size - 1]])
    return groups


async def _write(plan: _Plan, hashes: dict[str, str]) -> DemoReport:
    territoire = await Territoire.objects().where(Territoire.nom == plan.nom).first()
    new_territoire = territoire is None
    if territoire is None:
        territoire = Territoire(nom=plan.nom, kind=plan.kind, code=plan.code)
        await territoire.save()
    tid = territoire.id
    rows = [{"territoire": tid, "code": code, "nom": nom} for code, nom in plan.services.items()]
    new_services = await insert_missing(Service, rows, keys=("territoire", "code"))
    found = await Service.select(Service.id, Service.code).where(Service.territoire == tid)
    services = {row["code"]: row["id"] for row in found}
    created, present = await upsert_sites(tid, plan.sites, update=False)
    sites = {**created, **present}
    rows = [
        {"site": sites[ref], "service": services[code]}
        for ref, codes in plan.site_services.items()
        for code in codes
    ]
    await insert_missing(SiteService, rows, keys=("site", "service"))
    rows = [
        {"service": services[code], "commune": commune, "site": sites[ref]}
        for commune, code, ref in plan.sectorisation
    ]
    sectorisations = await insert_missing(Sectorisation, rows, keys=("service", "commune", "site"))
    known = {row["email"] for row in await Agent.select(Agent.email).where(Agent.territoire == tid)}
    for agent in plan.agents:
        if agent.email not in known and agent.mot_de_passe not in hashes:
            # argon2 takes ~50 ms a hash: once per distinct password, only when needed.
            hashes[agent.mot_de_passe] = hash_password(agent.mot_de_passe)
    rows = [
        {"territoire": tid, "prenom": agent.prenom, "nom": agent.nom, "email": agent.email,
         "mot_de_passe": hashes[agent.mot_de_passe], "role": agent.role}
        for agent in plan.agents
        if agent.email not in known
    ]  # fmt: skip
    agents = await insert_missing(Agent, rows, keys=("email",))
    found = await Agent.select(Agent.id, Agent.email).where(Agent.territoire == tid)
    ids = {row["email"]: row["id"] for row in found}
    rows = [{"agent": ids[a.email], "site": sites[ref]} for a in plan.agents for ref in a.sites]
    await insert_missing(AgentSite, rows, keys=("agent", "site"))
    rows = [
        {"agent": ids[a.email], "service": services[c]} for a in plan.agents for c in a.services
    ]
    await insert_missing(AgentService, rows, keys=("agent", "service"))
    return DemoReport(int(new_territoire), new_services, len(created), agents, sectorisations)

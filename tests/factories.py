"""Small helpers that build rows for tests; each call makes names unique."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sites.tables import (
    Agent,
    AgentService,
    AgentSite,
    Commune,
    Service,
    Site,
    SiteService,
    Territoire,
)

_counter = itertools.count(1)

# The real row of sites/data/communes-france.csv, so that importing the file changes nothing.
TOULOUSE = {
    "insee": "31555",
    "nom": "Toulouse",
    "nom_normalise": "toulouse",
    "departement": "31",
    "region": "76",
    "codes_postaux": "31000 31100 31200 31300 31400 31500",
    "latitude": 43.604049,
    "longitude": 1.443047,
    "population": 479553,
}


def unique(prefix: str) -> str:
    return f"{prefix} {next(_counter)}-{uuid.uuid4().hex[:6]}"


async def commune(**values: Any) -> Commune:
    data = {**TOULOUSE, **values}
    existing = await Commune.objects().where(Commune.insee == data["insee"]).first()
    if existing is not None:
        return existing
    row = Commune(**data)
    await row.save()
    return row


async def territoire(**values: Any) -> Territoire:
    data: dict[str, Any] = {
        "nom": unique("Territoire"),
        "kind": "departement",
        "code": "31",
        "fuseau_horaire": "Europe/Paris",
    }
    data.update(values)
    row = Territoire(**data)
    await row.save()
    return row


async def service(territoire_row: Territoire, code: str = "pmi", nom: str = "PMI") -> Service:
    row = Service(territoire=territoire_row.id, code=code, nom=nom)
    await row.save()
    return row


async def site(
    territoire_row: Territoire,
    *,
    services: list[Service] = (),  # type: ignore[assignment]
    commune_row: Commune | None = None,
    **values: Any,
) -> Site:
    commune_row = commune_row or await commune()
    data: dict[str, Any] = {
        "territoire": territoire_row.id,
        "kind": "centre",
        "nom": unique("Maison des Solidarités"),
        "adresse": "1 place du Capitole, 31000 Toulouse",
        "commune": commune_row.id,
        "latitude": commune_row.latitude,
        "longitude": commune_row.longitude,
        "horaires": {"lundi": [["09:00", "12:00"], ["13:30", "17:00"]]},
    }
    data.update(values)
    row = Site(**data)
    await row.save()
    for service_row in services:
        await SiteService(site=row.id, service=service_row.id).save()
    return row


async def agent(
    territoire_row: Territoire,
    *,
    role: str = "agent",
    password: str = "mot de passe solide",
    sites: list[Site] = (),  # type: ignore[assignment]
    services: list[Service] = (),  # type: ignore[assignment]
    **values: Any,
) -> Agent:
    from plateforme.passwords import hash_password

    data: dict[str, Any] = {
        "territoire": territoire_row.id,
        "prenom": "Camille",
        "nom": unique("Agent").replace(" ", "-"),
        "email": f"{uuid.uuid4().hex[:10]}@exemple.fr",
        "mot_de_passe": hash_password(password),
        "role": role,
    }
    data.update(values)
    row = Agent(**data)
    await row.save()
    for site_row in sites:
        await AgentSite(agent=row.id, site=site_row.id).save()
    for service_row in services:
        await AgentService(agent=row.id, service=service_row.id).save()
    return row


async def motif(service_row: Service, **values: Any) -> Any:
    from rdv.tables import Motif

    data: dict[str, Any] = {
        "service": service_row.id,
        "nom": unique("Consultation"),
        "duree_minutes": 30,
        "delai_min_minutes": 0,
        "delai_max_jours": 90,
    }
    data.update(values)
    row = Motif(**data)
    await row.save()
    return row


async def usager(territoire_row: Territoire, **values: Any) -> Any:
    from rdv.tables import Usager

    data: dict[str, Any] = {
        "territoire": territoire_row.id,
        "prenom": "Alex",
        "nom": unique("Usager").replace(" ", "-"),
        "telephone": "+33612345678",
    }
    data.update(values)
    row = Usager(**data)
    await row.save()
    return row


def code() -> str:
    return uuid.uuid4().hex[:10].upper()


async def plage(
    agent_row: Agent,
    site_row: Site,
    motifs: list[Any],
    *,
    heure_debut: str = "09:00",
    heure_fin: str = "12:00",
    premier_jour: Any = None,
    rrule: str | None = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    fin: Any = None,
) -> Any:
    from datetime import date, time

    from rdv.tables import PlageMotif, PlageOuverture

    row = PlageOuverture(
        agent=agent_row.id,
        site=site_row.id,
        heure_debut=time.fromisoformat(heure_debut),
        heure_fin=time.fromisoformat(heure_fin),
        premier_jour=premier_jour or date.today(),
        rrule=rrule,
        fin=fin,
    )
    await row.save()
    for motif_row in motifs:
        await PlageMotif(plage=row.id, motif=motif_row.id).save()
    return row


PARIS = ZoneInfo("Europe/Paris")


def monday_at(hhmm: str, weeks: int = 2, zone: ZoneInfo = PARIS) -> datetime:
    """A Monday `weeks` weeks ahead (1 = next Monday) at a local time, for rdvs in tests."""
    today = datetime.now(zone).date()
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7) + timedelta(weeks=weeks - 1)
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(monday.year, monday.month, monday.day, hours, minutes, tzinfo=zone)


def monday_ouvre_at(
    hhmm: str, departement: str, jours: tuple[int, ...] = (0,), weeks: int = 2
) -> datetime:
    """`monday_at`, on the first Monday from `weeks` weeks ahead whose days `jours` (0 =
    that Monday) are no public holiday in the département: a plage is closed then."""
    from sites.services.jours_feries import jours_feries

    annee = datetime.now(PARIS).year
    feries = jours_feries(departement, range(annee, annee + 2))
    while any(monday_at(hhmm, weeks).date() + timedelta(days=d) in feries for d in jours):
        weeks += 1
    return monday_at(hhmm, weeks)


async def file_attente(site_row: Site, service_row: Service, **values: Any) -> Any:
    """A queue, open at any hour unless `horaires` says otherwise."""
    from file_attente.tables import FileAttente

    data: dict[str, Any] = {
        "site": site_row.id,
        "service": service_row.id,
        "nom": unique("Accueil"),
        "prefixe": "A",
        "horaires": {
            jour: [["00:00", "23:59"]]
            for jour in ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
        },
    }
    data.update(values)
    row = FileAttente(**data)
    await row.save()
    return row


async def guichet(site_row: Site, nom: str | None = None) -> Any:
    from file_attente.tables import Guichet

    row = Guichet(site=site_row.id, nom=nom or unique("G")[:40])
    await row.save()
    return row


async def appareil(site_row: Site | None, kind: str = "ecran", **values: Any) -> tuple[Any, str]:
    """A device already paired to the site (None: unpaired); returns the row and its token."""
    import secrets

    from bornes.services.appareils import hacher
    from bornes.tables import Appareil

    jeton = secrets.token_urlsafe(32)
    row = Appareil(
        site=site_row.id if site_row else None,
        kind=kind,
        nom=unique("Appareil"),
        jeton_hash=hacher(jeton),
        appaire_at=datetime.now(UTC) if site_row else None,
        **values,
    )
    await row.save()
    return row, jeton


def bientot_aujourdhui(minutes: int = 20, fuseau: str = "Europe/Paris") -> datetime:
    """A moment `minutes` from now on today's local date; late in the evening, when that
    would be tomorrow there, `minutes` ago instead (a check-in is for today's rdvs)."""
    maintenant = datetime.now(UTC)
    zone = ZoneInfo(fuseau)
    plus_tard = maintenant + timedelta(minutes=minutes)
    if plus_tard.astimezone(zone).date() == maintenant.astimezone(zone).date():
        return plus_tard
    return maintenant - timedelta(minutes=minutes)

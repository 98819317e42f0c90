"""Searching free créneaux: the week view of one site, and motifs open to online booking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from plateforme.db import lecture
from plateforme.errors import Invalid, NotFound
from rdv import creneaux
from rdv.services.chargement import MotifInfo, charger, motif_info, site_du_motif
from rdv.tables import Motif
from sites.services import proximite
from sites.services.horaires import JOURS

JOURS_MAX = 14


@dataclass(frozen=True)
class Jour:
    date: date
    jour: str
    creneaux: list[creneaux.Creneau]


@dataclass(frozen=True)
class Semaine:
    motif: MotifInfo
    site_id: int
    jours: list[Jour]
    suivant: datetime | None


async def motif_en_ligne(motif_id: int) -> MotifInfo:
    motif = await motif_info(motif_id)
    if not motif.reservable_en_ligne:
        raise NotFound("Ce motif ne se réserve pas en ligne.", code="motif_inconnu")
    return motif


async def semaine(
    motif_id: int,
    site_id: int,
    *,
    du: date | None = None,
    jours: int = 7,
    maintenant: datetime | None = None,
) -> Semaine:
    """Free créneaux of a motif at a site for `jours` days from `du` (local dates)."""
    if not 1 <= jours <= JOURS_MAX:
        raise Invalid(fields={"jours": f"entre 1 et {JOURS_MAX}"})
    maintenant = maintenant or datetime.now(UTC)
    async with lecture():
        return await _semaine(motif_id, site_id, du, jours, maintenant)


async def _semaine(
    motif_id: int, site_id: int, du: date | None, jours: int, maintenant: datetime
) -> Semaine:
    motif = await motif_en_ligne(motif_id)
    await site_du_motif(motif, site_id)
    zone = ZoneInfo(motif.fuseau)
    premier = du or maintenant.astimezone(zone).date()
    debut = datetime.combine(premier, time.min, tzinfo=zone)
    fin = datetime.combine(premier + timedelta(days=jours), time.min, tzinfo=zone)
    contexte = await charger(motif, debut=debut, fin=fin, site_ids=[site_id])
    par_jour: dict[date, list[creneaux.Creneau]] = {
        premier + timedelta(days=i): [] for i in range(jours)
    }
    for creneau in _un_par_debut(contexte.libres(debut, fin, maintenant)):
        par_jour.setdefault(creneau.debut.astimezone(zone).date(), []).append(creneau)
    suivant = None
    if not any(par_jour.values()):
        # Nothing this week: say when the next créneau is, within the motif's window.
        horizon = maintenant + motif.regles.delai_max
        if fin < horizon:
            later = await charger(motif, debut=fin, fin=horizon, site_ids=[site_id])
            prochain = later.prochains(fin, horizon, maintenant).get(site_id)
            suivant = prochain.debut if prochain else None
    return Semaine(
        motif=motif,
        site_id=site_id,
        jours=[
            Jour(date=d, jour=JOURS[d.weekday()], creneaux=c) for d, c in sorted(par_jour.items())
        ],
        suivant=suivant,
    )


def _un_par_debut(libres: list[creneaux.Creneau]) -> list[creneaux.Creneau]:
    """The public sees one créneau per start time, whichever agent is free then."""
    result: list[creneaux.Creneau] = []
    for creneau in libres:
        if not result or creneau.debut != result[-1].debut:
            result.append(creneau)
    return result


async def motifs_en_ligne(service: str) -> list[dict[str, Any]]:
    """Motifs of every territoire's service with this code that the public may book."""
    return await (
        Motif.select(
            Motif.id,
            Motif.nom,
            Motif.duree_minutes,
            Motif.canal,
            Motif.instructions,
            Motif.service.nom.as_alias("service"),
            Motif.service.territoire.nom.as_alias("territoire"),
        )
        .where(
            Motif.service.code == service, Motif.actif.eq(True), Motif.reservable_en_ligne.eq(True)
        )
        .order_by(Motif.nom)
    )


@dataclass(frozen=True)
class Disponibilite:
    """A contact point near the person, and its next free créneau for the motif (or none)."""

    site: proximite.SiteProche
    prochain: creneaux.Creneau | None


TRIS = ("distance", "disponibilite")
# Most sites have a free créneau within a week: look there first.
PREMIERE_PASSE = timedelta(days=8)


async def prochains_par_site(
    motif: MotifInfo, site_ids: list[int], maintenant: datetime, horizon: datetime | None = None
) -> dict[int, creneaux.Creneau]:
    """The next free créneau of each site, up to `horizon` (the motif's window by default).

    Two passes: the coming eight days for every site, then the rest of the
    window only for the sites still without a créneau. Loading eight weeks of
    every agent's rdvs at once was most of the cost (bench/RESULTS.md); the
    answer is the same, since a créneau never crosses local midnight. The
    plages, absences and closures are loaded once, for the whole window; only
    the rdvs are loaded per pass.
    """
    horizon = horizon or maintenant + motif.regles.delai_max
    zone = ZoneInfo(motif.fuseau)
    proche = datetime.combine(
        (maintenant.astimezone(zone) + PREMIERE_PASSE).date(), time.min, tzinfo=zone
    )
    coupure = min(horizon, proche)
    contexte = await charger(
        motif, debut=maintenant, fin=horizon, site_ids=site_ids, fin_rdvs=coupure
    )
    result = contexte.prochains(maintenant, coupure, maintenant)
    restants = [site for site in site_ids if site not in result]
    if restants and coupure < horizon:
        suite = await contexte.plus_loin(restants, coupure, horizon)
        result.update(suite.prochains(coupure, horizon, maintenant))
    return result


async def disponibilites(
    motif_id: int,
    point: proximite.Point,
    *,
    limite: int = 10,
    tri: str = "distance",
    maintenant: datetime | None = None,
) -> list[Disponibilite]:
    """The nearest sites offering the motif, each with its next free créneau.

    Sorted by distance, or by first availability (among the 3 × limite nearest,
    sites without any créneau last). The créneaux of all sites come from one
    load of the engine's inputs.
    """
    if tri not in TRIS:
        raise Invalid(fields={"tri": "distance ou disponibilite"})
    maintenant = maintenant or datetime.now(UTC)
    async with lecture():
        motif = await motif_en_ligne(motif_id)
        proches = await proximite.sites_proches(
            point,
            service=motif.service_code,
            territoire_id=motif.territoire_id,
            limite=min(proximite.LIMITE_MAX, limite * (3 if tri == "disponibilite" else 1)),
        )
        if not proches:
            return []
        prochains = await prochains_par_site(motif, [p.site.id for p in proches], maintenant)
    result = [Disponibilite(site=p, prochain=prochains.get(p.site.id)) for p in proches]
    if tri == "disponibilite":
        far_future = maintenant + timedelta(days=3650)
        result.sort(
            key=lambda d: (d.prochain.debut if d.prochain else far_future, d.site.distance_km)
        )
    return result[:limite]

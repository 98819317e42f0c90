"""What the queues need to know about a site: its zone, its day, whether a queue is open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from plateforme.errors import NotFound
from sites.services.horaires import Horaires, parse_horaires, semaine
from sites.services.jours_feries import jours_feries
from sites.tables import Fermeture, Site


@dataclass(frozen=True, slots=True)
class SiteInfo:
    id: int
    territoire_id: int
    nom: str
    fuseau: str
    departement: str
    horaires: Horaires | None

    def maintenant_local(self, maintenant: datetime) -> datetime:
        return maintenant.astimezone(ZoneInfo(self.fuseau))

    def jour(self, maintenant: datetime) -> date:
        """The site's local day: ticket numbers start again each one."""
        return self.maintenant_local(maintenant).date()


async def site_info(site_id: int) -> SiteInfo:
    row = (
        await Site.select(
            Site.id,
            Site.territoire.id.as_alias("territoire_id"),
            Site.nom,
            Site.territoire.fuseau_horaire.as_alias("fuseau"),
            Site.commune.departement.as_alias("departement"),
            Site.horaires,
        )
        .where(Site.id == site_id, Site.actif.eq(True))
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound("Ce lieu n'existe pas ou n'est plus ouvert.", code="site_inconnu")
    return SiteInfo(
        id=row["id"],
        territoire_id=row["territoire_id"],
        nom=row["nom"],
        fuseau=row["fuseau"],
        departement=row["departement"],
        horaires=parse_horaires(row["horaires"], fusionner=True),
    )


def horaires_file(site: SiteInfo, file_horaires: Any) -> Horaires | None:
    """A queue's own hours when it has some, else its site's."""
    return parse_horaires(file_horaires, fusionner=True) if file_horaires else site.horaires


async def fermetures(site_id: int, jour: date) -> list[tuple[date, date, str]]:
    rows = await Fermeture.select(Fermeture.debut, Fermeture.fin, Fermeture.motif).where(
        Fermeture.site == site_id, Fermeture.debut <= jour, Fermeture.fin >= jour
    )
    return [(r["debut"], r["fin"], r["motif"]) for r in rows]


def plages_du_jour(
    site: SiteInfo,
    horaires: Horaires | None,
    closures: list[tuple[date, date, str]],
    maintenant: datetime,
) -> tuple[tuple[time, time], ...] | None:
    """Today's opening intervals (local); () when closed all day; None when hours are unknown."""
    jour = site.jour(maintenant)
    ferie = jours_feries(site.departement, [jour.year])
    (aujourdhui,) = semaine(horaires, closures, ferie, jour, jours=1)
    if aujourdhui.ouvert is None:
        return None
    return aujourdhui.plages if aujourdhui.ouvert else ()


def est_ouverte(plages: tuple[tuple[time, time], ...] | None, local: datetime) -> bool:
    """Open now: inside one of today's intervals. Unknown hours never block a ticket."""
    if plages is None:
        return True
    heure = local.time()
    return any(debut <= heure < fin for debut, fin in plages)


def apres_fermeture(plages: tuple[tuple[time, time], ...] | None, local: datetime) -> bool:
    """Past today's last closing time (or closed all day): the queue's day is over."""
    if plages is None:
        return False
    if not plages:
        return True
    return local.time() >= max(fin for _, fin in plages)


def utc_now() -> datetime:
    return datetime.now(UTC)

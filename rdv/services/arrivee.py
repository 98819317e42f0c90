"""Check-in: the usager says they are here (kiosk or reception); the agenda shows it at once.

Used by the file_attente package inside its own write transaction, so that the
arrival and the ticket it gives are one change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from plateforme.errors import Conflict, Invalid, NotFound
from rdv.tables import Rdv, RdvHistorique, StatutRdv


@dataclass(frozen=True, slots=True)
class RdvArrive:
    id: int
    debut: datetime
    service_id: int
    deja_arrive: bool


def normaliser_code(code: str) -> str:
    """What people type at a kiosk: spaces, dashes, lower case."""
    return "".join(c for c in code.upper() if c.isalnum())


async def arriver(
    code: str, *, site_id: int, jour: date, fuseau: str, maintenant: datetime, acteur: str
) -> RdvArrive:
    """Mark the rdv of `code` arrived, if it is today's, at this site, and still to come.

    Must run inside the caller's write transaction. Checking in twice is no error:
    the second time changes nothing and says so.
    """
    propre = normaliser_code(code)
    if not propre:
        raise Invalid(fields={"code": "Saisissez le code de votre rendez-vous."})
    row = (
        await Rdv.select(
            Rdv.id,
            Rdv.site,
            Rdv.debut,
            Rdv.statut,
            Rdv.arrive_at,
            Rdv.motif.service.as_alias("service_id"),
            Rdv.site.nom.as_alias("site_nom"),
        )
        .where(Rdv.code == propre)
        .first()
    )
    if row is None:
        raise NotFound(
            "Ce code ne correspond à aucun rendez-vous. Vérifiez-le ou adressez-vous à l'accueil.",
            code="code_inconnu",
        )
    if row["site"] != site_id:
        raise Conflict(
            f"Ce rendez-vous a lieu à un autre endroit : {row['site_nom']}.", code="autre_site"
        )
    jour_rdv = row["debut"].astimezone(ZoneInfo(fuseau)).date()
    if jour_rdv != jour:
        raise Conflict(
            f"Ce rendez-vous est prévu le {jour_rdv:%d/%m/%Y}, pas aujourd'hui.",
            code="autre_jour",
        )
    if row["statut"] != StatutRdv.a_venir:
        raise Conflict(
            "Ce rendez-vous a été annulé ou est déjà passé. Adressez-vous à l'accueil.",
            code="rdv_plus_a_venir",
        )
    if row["arrive_at"] is not None:
        return RdvArrive(row["id"], row["debut"], row["service_id"], deja_arrive=True)
    await Rdv.update({Rdv.arrive_at: maintenant, Rdv.updated_at: maintenant}).where(
        Rdv.id == row["id"]
    )
    await RdvHistorique(
        rdv=row["id"],
        evenement="arrive",
        statut=row["statut"],
        debut=row["debut"],
        acteur=acteur,
        details={},
    ).save()
    return RdvArrive(row["id"], row["debut"], row["service_id"], deja_arrive=False)

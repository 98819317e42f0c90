"""What an admin reads of the outbox: every message of an rdv or a usager, and the counts and
SMS segments of the territoire per day and per month."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from notifications.tables import Message
from plateforme.auth import Principal
from plateforme.errors import Forbidden
from sites.tables import Territoire

LIBELLES = {
    "en_attente": "en attente",
    "en_cours": "en cours d'envoi",
    "envoye": "envoyé",
    "delivre": "délivré",
    "echec": "échec",
    "annule": "annulé",
    "expire": "expiré",
}


def verifier_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("Seuls les administrateurs du territoire voient les messages envoyés.")


async def messages(
    principal: Principal, *, rdv: int | None = None, usager: int | None = None, limite: int = 200
) -> list[dict[str, Any]]:
    verifier_admin(principal)
    query = (
        Message.select(
            Message.id,
            Message.canal,
            Message.genre,
            Message.destinataire,
            Message.statut,
            Message.du_at,
            Message.envoye_at,
            Message.delivre_at,
            Message.fournisseur,
            Message.fournisseur_id,
            Message.segments,
            Message.tentatives,
            Message.derniere_erreur,
            Message.rdv,
            Message.usager,
        )
        .where(Message.territoire == principal.territoire_id)
        .order_by(Message.id, ascending=False)
        .limit(limite)
    )
    if rdv is not None:
        query = query.where(Message.rdv == rdv)
    if usager is not None:
        query = query.where(Message.usager == usager)
    rows = await query
    for row in rows:
        row["statut_libelle"] = LIBELLES.get(row["statut"], row["statut"])
    return rows


@dataclass
class Compte:
    sms: int = 0
    segments: int = 0
    emails: int = 0
    par_statut: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass
class Bilan:
    jours: list[tuple[str, Compte]]
    mois: list[tuple[str, Compte]]


async def bilan(principal: Principal, maintenant: datetime | None = None, jours: int = 31) -> Bilan:
    """Messages created per local day (the last `jours`) and per month (the last twelve).

    SMS segments count what went out (sent or delivered): what the provider bills.
    """
    verifier_admin(principal)
    maintenant = maintenant or datetime.now(UTC)
    territoire = (
        await Territoire.select(Territoire.fuseau_horaire)
        .where(Territoire.id == principal.territoire_id)
        .first()
    )
    zone = ZoneInfo(territoire["fuseau_horaire"] if territoire else "Europe/Paris")
    depuis = maintenant - timedelta(days=366)
    rows = await Message.select(
        Message.canal, Message.statut, Message.segments, Message.created_at
    ).where(Message.territoire == principal.territoire_id, Message.created_at >= depuis)
    par_jour: dict[str, Compte] = defaultdict(Compte)
    par_mois: dict[str, Compte] = defaultdict(Compte)
    limite_jour = (maintenant - timedelta(days=jours)).astimezone(zone).date()
    for row in rows:
        local = row["created_at"].astimezone(zone)
        cibles = [par_mois[f"{local:%Y-%m}"]]
        if local.date() > limite_jour:
            cibles.append(par_jour[local.date().isoformat()])
        for compte in cibles:
            compte.par_statut[row["statut"]] += 1
            if row["canal"] == "sms":
                compte.sms += 1
                if row["statut"] in ("envoye", "delivre"):
                    compte.segments += row["segments"]
            else:
                compte.emails += 1
    return Bilan(
        jours=sorted(par_jour.items(), reverse=True), mois=sorted(par_mois.items(), reverse=True)
    )

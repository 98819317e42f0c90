"""What the notifications package does when the domain changes something, inside the
domain's own transaction (see `plateforme.reactions`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from file_attente import politique
from file_attente.tables import StatutTicket, Ticket
from notifications import gabarits
from notifications.services import sortie
from notifications.tables import Canal
from plateforme.reactions import reaction


@reaction("ticket.appele")
async def ticket_appele(*, ticket_id: int, guichet: str, maintenant: datetime) -> None:
    """SMS to the person called (once), and "your turn is near" to those now close."""
    row = (
        await Ticket.select(
            Ticket.id,
            Ticket.code,
            Ticket.telephone,
            Ticket.jour,
            Ticket.file_actuelle.as_alias("file"),
            Ticket.file_actuelle.alerte_avant.as_alias("alerte_avant"),
            Ticket.file_actuelle.site.nom.as_alias("lieu"),
            Ticket.file_actuelle.site.territoire.as_alias("territoire"),
        )
        .where(Ticket.id == ticket_id)
        .first()
    )
    if row is None:
        return
    p = await sortie.parametres(row["territoire"])
    if row["telephone"]:
        await sortie.ecrire(
            p,
            canal=Canal.sms,
            genre="appel",
            destinataire=row["telephone"],
            texte=gabarits.appel(ticket=row["code"], guichet=guichet, lieu=row["lieu"]),
            cle=f"ticket:{ticket_id}:appel",
            du_at=maintenant,
            urgent=True,
            ticket=ticket_id,
        )
    await _tour_proche(row, p, maintenant)


async def _tour_proche(row: dict[str, Any], p: sortie.Parametres, maintenant: datetime) -> None:
    if row["alerte_avant"] <= 0:
        return
    attente = await Ticket.select(
        Ticket.id, Ticket.code, Ticket.priorite, Ticket.rang_at, Ticket.telephone
    ).where(
        Ticket.file_actuelle == row["file"],
        Ticket.jour == row["jour"],
        Ticket.statut == StatutTicket.en_attente,
    )
    candidats = [politique.Candidat(t["id"], t["priorite"], t["rang_at"]) for t in attente]
    for ticket, candidat in zip(attente, candidats, strict=True):
        if not ticket["telephone"]:
            continue
        devant = politique.rang(candidats, candidat)
        if devant > row["alerte_avant"]:
            continue
        await sortie.ecrire(
            p,
            canal=Canal.sms,
            genre="tour_proche",
            destinataire=ticket["telephone"],
            texte=gabarits.tour_proche(ticket=ticket["code"], devant=devant, lieu=row["lieu"]),
            cle=f"ticket:{ticket['id']}:tour_proche",
            du_at=maintenant,
            urgent=True,
            ticket=ticket["id"],
        )

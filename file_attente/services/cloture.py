"""End of the day: each queue closes by itself at its site's closing time, in the site's zone.

Tickets still waiting (or called and never served) become "non servi", with a
log row by the system; tickets of earlier days too (a server that was down at
closing time catches up). Phone numbers left on tickets are erased once their
day is over: they were only kept for "your turn is near".
Run every minute by the scheduler; running it twice changes nothing more.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from file_attente.services import lieux, tickets
from file_attente.tables import (
    EvenementTicket,
    FileAttente,
    StatutTicket,
    Ticket,
    TicketHistorique,
)
from plateforme.db import write_transaction

logger = logging.getLogger(__name__)

A_CLORE = [StatutTicket.en_attente, StatutTicket.appele]


async def _a_clore(file: dict[str, Any], maintenant: datetime) -> list[dict[str, Any]]:
    site = await lieux.site_info(file["site"])
    jour = site.jour(maintenant)
    plages = lieux.plages_du_jour(
        site,
        lieux.horaires_file(site, file["horaires"]),
        await lieux.fermetures(site.id, jour),
        maintenant,
    )
    query = Ticket.select(Ticket.id, Ticket.code, Ticket.jour, Ticket.statut).where(
        Ticket.file_actuelle == file["id"], Ticket.statut.is_in(A_CLORE)
    )
    if lieux.apres_fermeture(plages, site.maintenant_local(maintenant)):
        query = query.where(Ticket.jour <= jour)
    else:
        query = query.where(Ticket.jour < jour)
    return await query


async def _clore(file: dict[str, Any], maintenant: datetime) -> int:
    restants = await _a_clore(file, maintenant)
    site = await lieux.site_info(file["site"])
    # Someone served at a counter until the end of a past day and never ended: the service
    # is over (no end time: it would count as a day-long service in the estimates).
    oublies = await Ticket.select(Ticket.id, Ticket.code).where(
        Ticket.file_actuelle == file["id"],
        Ticket.statut == StatutTicket.en_cours,
        Ticket.jour < site.jour(maintenant),
    )
    if not restants and not oublies:
        return 0
    async with write_transaction():
        fermes = []
        if restants:
            fermes = (
                await Ticket.update({Ticket.statut: StatutTicket.non_servi})
                .where(Ticket.id.is_in([t["id"] for t in restants]), Ticket.statut.is_in(A_CLORE))
                .returning(Ticket.id, Ticket.code)
            )
        termines = []
        if oublies:
            termines = (
                await Ticket.update({Ticket.statut: StatutTicket.termine})
                .where(
                    Ticket.id.is_in([t["id"] for t in oublies]),
                    Ticket.statut == StatutTicket.en_cours,
                )
                .returning(Ticket.id, Ticket.code)
            )
        journal = [
            TicketHistorique(
                ticket=t["id"],
                evenement=evenement,
                statut=statut,
                acteur="systeme",
                at=maintenant,
            )
            for rows, evenement, statut in (
                (fermes, EvenementTicket.non_servi, StatutTicket.non_servi),
                (termines, EvenementTicket.termine, StatutTicket.termine),
            )
            for t in rows
        ]
        if journal:
            await TicketHistorique.insert(*journal)
    for ticket in fermes:
        await tickets.publier(
            file["site"],
            {"type": "ticket.non_servi", "file": file["id"], "ticket": ticket["code"]},
            maintenant,
        )
    return len(fermes)


async def cloturer(maintenant: datetime | None = None) -> int:
    """Close what is over; returns how many tickets became "non servi".

    Each queue on its own: one that fails (its site just closed down) is logged and
    does not keep the others, nor the erasing of phone numbers, from running."""
    maintenant = maintenant or lieux.utc_now()
    await effacer_telephones(maintenant)
    files = (
        await FileAttente.select(FileAttente.id, FileAttente.site, FileAttente.horaires)
        .where(FileAttente.site.actif.eq(True))
        .output(load_json=True)
    )
    total = 0
    for file in files:
        try:
            total += await _clore(file, maintenant)
        except Exception:  # noqa: BLE001 - logged; the next run tries again
            logger.exception("fermeture de la file %s impossible", file["id"])
    return total


async def effacer_telephones(maintenant: datetime) -> None:
    """Phone numbers of tickets whose day is over (at the latest, the day after, UTC+14 safe)."""
    hier = maintenant.date().toordinal() - 1
    limite = datetime.fromordinal(hier).date()
    await Ticket.update({Ticket.telephone: ""}).where(Ticket.telephone != "", Ticket.jour < limite)

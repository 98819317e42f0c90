"""Check-in at a kiosk or the reception desk: the rdv becomes "arrivé" and, when the site has a
queue for the rdv's service, a priority ticket is issued in it, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from file_attente.services import lieux, tickets
from file_attente.tables import FileAttente, OrigineTicket, Priorite, StatutTicket, Ticket
from plateforme.db import write_transaction
from rdv.services.arrivee import arriver


@dataclass(frozen=True, slots=True)
class Arrivee:
    """What the kiosk shows: the time of the rdv and the ticket, nothing about the person."""

    rdv_debut: datetime
    deja_arrive: bool
    ticket: tickets.TicketEmis | None


async def enregistrer(
    site_id: int,
    code: str,
    *,
    appareil: int | None = None,
    agent_id: int | None = None,
    maintenant: datetime | None = None,
) -> Arrivee:
    maintenant = maintenant or lieux.utc_now()
    site = await lieux.site_info(site_id)
    emis: dict[str, Any] | None = None
    file: dict[str, Any] | None = None
    async with write_transaction():
        rdv = await arriver(
            code,
            site_id=site_id,
            jour=site.jour(maintenant),
            fuseau=site.fuseau,
            maintenant=maintenant,
            acteur="agent" if agent_id else "usager",
        )
        existant = (
            await Ticket.select(Ticket.id, Ticket.jeton)
            .where(Ticket.rdv == rdv.id, Ticket.statut != StatutTicket.annule)
            .first()
        )
        if existant is None:
            file = (
                await FileAttente.select()
                .where(
                    FileAttente.site == site_id,
                    FileAttente.service == rdv.service_id,
                    FileAttente.actif.eq(True),
                )
                .output(load_json=True)
                .first()
            )
            if file is not None:
                emis = await tickets.emettre_dans_transaction(
                    file,
                    site,
                    origine=OrigineTicket.rdv,
                    priorite=Priorite.rdv,
                    appareil=appareil,
                    rdv_id=rdv.id,
                    agent_id=agent_id,
                    maintenant=maintenant,
                )
    ticket: tickets.TicketEmis | None = None
    if emis is not None and file is not None:
        await tickets.publier_emis(site_id, file["id"], emis["code"], maintenant)
        ticket = await tickets.ticket_emis(emis["id"], maintenant)
    elif existant is not None:
        ticket = await tickets.ticket_emis(existant["id"], maintenant)
    return Arrivee(rdv_debut=rdv.debut, deja_arrive=rdv.deja_arrive, ticket=ticket)

"""Check-in at a kiosk or the reception desk: the rdv becomes "arrivé" and, when the site has a
queue for the rdv's service, a priority ticket is issued in it, in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from file_attente.services import lieux, tickets
from file_attente.tables import FileAttente, OrigineTicket, Priorite, StatutTicket, Ticket
from plateforme.db import write_transaction
from plateforme.errors import Conflict, NotFound, TooManyRequests
from rdv.services.arrivee import arriver
from rdv.tables import TentativeCode

# Unknown codes a kiosk may send in FENETRE before it is refused; a code of another site
# or day counts too (someone trying codes learns from those answers).
ECHECS_MAX = 30
DEVINETTES = ("autre_site", "autre_jour")
FENETRE = timedelta(minutes=15)


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
    cle = f"appareil:{appareil}" if appareil is not None else None
    if cle is not None:
        await _limiter(cle, maintenant)
    try:
        async with write_transaction():
            rdv, existant, file, emis = await _arriver(site, code, appareil, agent_id, maintenant)
    except (NotFound, Conflict) as error:
        if cle is not None and (isinstance(error, NotFound) or error.code in DEVINETTES):
            async with write_transaction():
                await TentativeCode(ip=cle, code=code[:12], succes=False, at=maintenant).save()
        raise
    ticket: tickets.TicketEmis | None = None
    if emis is not None and file is not None:
        await tickets.publier_emis(site_id, file["id"], emis["code"], maintenant)
        ticket = await tickets.ticket_emis(emis["id"], maintenant)
    elif existant is not None:
        ticket = await tickets.ticket_emis(existant["id"], maintenant)
    return Arrivee(rdv_debut=rdv.debut, deja_arrive=rdv.deja_arrive, ticket=ticket)


async def _limiter(cle: str, maintenant: datetime) -> None:
    """A kiosk may mistype codes, not try them all: misses are counted per device."""
    echecs = await TentativeCode.count().where(
        TentativeCode.ip == cle,
        TentativeCode.succes.eq(False),
        TentativeCode.at >= maintenant - FENETRE,
    )
    if echecs >= ECHECS_MAX:
        raise TooManyRequests(
            "Trop de codes inconnus saisis sur cette borne. Adressez-vous à l'accueil.",
            retry_after=int(FENETRE.total_seconds()),
        )


async def _arriver(
    site: lieux.SiteInfo,
    code: str,
    appareil: int | None,
    agent_id: int | None,
    maintenant: datetime,
) -> tuple[Any, Any, dict[str, Any] | None, dict[str, Any] | None]:
    """Inside the write transaction: the arrival, then the ticket if none was given yet."""
    site_id = site.id
    file: dict[str, Any] | None = None
    emis: dict[str, Any] | None = None
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
            try:
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
            except (tickets.FileFermee, TooManyRequests):
                # The walk-in queue is closed (an afternoon appointment) or the kiosk is
                # busy: the person is still arrived; the professional comes for them.
                emis = None
    return rdv, existant, file, emis

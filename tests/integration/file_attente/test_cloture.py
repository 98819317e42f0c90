"""At closing time each queue closes by itself, in its site's zone; numbers start again."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from file_attente.services import cloture, tickets
from file_attente.tables import FileAttente, OrigineTicket, Ticket, TicketHistorique
from tests.integration.file_attente.conftest import site_avec_files

PARIS = ZoneInfo("Europe/Paris")
JOURS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


async def test_queues_close_at_their_closing_time_and_number_again_the_next_day() -> None:
    lieu = await site_avec_files(n_guichets=0)
    # PMI open 08:00-12:00 every day; the other queue all day.
    await FileAttente.update(
        {FileAttente.horaires: {j: [["08:00", "12:00"]] for j in JOURS}}
    ).where(FileAttente.id == lieu.file.id)
    morning = datetime.now(PARIS).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(
        days=1
    )
    a1 = await tickets.emettre(
        lieu.file.id, origine=OrigineTicket.distance, telephone="0612345678", maintenant=morning
    )
    b1 = await tickets.emettre(lieu.autre_file.id, origine=OrigineTicket.borne, maintenant=morning)
    assert (a1.code, b1.code) == ("A001", "B001")

    async def statuses() -> dict[str, str]:
        rows = await Ticket.select(Ticket.code, Ticket.statut).where(
            Ticket.id.is_in([a1.id, b1.id])
        )
        return {r["code"]: r["statut"] for r in rows}

    # (Other tests' tickets share the database: only this site's are checked.)
    # 11:59: still open, nothing closes.
    await cloture.cloturer(morning.replace(hour=11, minute=59))
    assert await statuses() == {"A001": "en_attente", "B001": "en_attente"}
    # 12:00 Paris: the PMI queue is over; the other one is not.
    assert await cloture.cloturer(morning.replace(hour=12, minute=0)) >= 1
    assert await statuses() == {"A001": "non_servi", "B001": "en_attente"}
    log = await TicketHistorique.select(TicketHistorique.acteur).where(
        TicketHistorique.ticket == a1.id, TicketHistorique.evenement == "non_servi"
    )
    assert log == [{"acteur": "systeme"}]
    # Running again changes nothing more.
    await cloture.cloturer(morning.replace(hour=12, minute=5))
    assert (
        await TicketHistorique.count().where(
            TicketHistorique.ticket == a1.id, TicketHistorique.evenement == "non_servi"
        )
        == 1
    )

    # The next morning: yesterday's leftovers close, numbers start again at 001.
    next_day = morning + timedelta(days=1)
    await cloture.cloturer(next_day.replace(hour=7))
    assert await statuses() == {"A001": "non_servi", "B001": "non_servi"}
    a_next = await tickets.emettre(lieu.file.id, origine=OrigineTicket.borne, maintenant=next_day)
    assert a_next.code == "A001"
    # Phone numbers are erased once their day is over.
    await cloture.cloturer(next_day + timedelta(days=1))
    row = await Ticket.select(Ticket.telephone).where(Ticket.id == a1.id).first()
    assert row == {"telephone": ""}


async def test_the_ticket_log_cannot_be_rewritten() -> None:
    """Invariant 5: the database refuses to change or delete a log row, on both engines."""
    import pytest

    lieu = await site_avec_files(n_guichets=0)
    emis = await tickets.emettre(lieu.file.id, origine=OrigineTicket.borne)
    with pytest.raises(Exception, match="append_only"):
        await TicketHistorique.update({TicketHistorique.acteur: "personne"}).where(
            TicketHistorique.ticket == emis.id
        )
    with pytest.raises(Exception, match="append_only"):
        await TicketHistorique.delete().where(TicketHistorique.ticket == emis.id)
    assert await TicketHistorique.count().where(TicketHistorique.ticket == emis.id) == 1


async def test_closing_goes_on_past_a_closed_site_and_ends_forgotten_services() -> None:
    from sites.tables import Site

    ferme = await site_avec_files(n_guichets=0)
    lieu = await site_avec_files(n_guichets=0)
    hier = datetime.now(PARIS) - timedelta(days=1)
    orphelin = await tickets.emettre(ferme.file.id, origine=OrigineTicket.borne, maintenant=hier)
    oublie = await tickets.emettre(lieu.file.id, origine=OrigineTicket.borne, maintenant=hier)
    attente = await tickets.emettre(lieu.file.id, origine=OrigineTicket.borne, maintenant=hier)
    await Site.update({Site.actif: False}).where(Site.id == ferme.site.id)
    # Served at a counter yesterday and never ended.
    await Ticket.update({Ticket.statut: "en_cours"}).where(Ticket.id == oublie.id)

    await cloture.cloturer()
    statuses = {
        r["id"]: r["statut"]
        for r in await Ticket.select(Ticket.id, Ticket.statut).where(
            Ticket.id.is_in([orphelin.id, oublie.id, attente.id])
        )
    }
    assert statuses[attente.id] == "non_servi"
    assert statuses[oublie.id] == "termine"
    logged = await TicketHistorique.select(TicketHistorique.acteur).where(
        TicketHistorique.ticket == oublie.id, TicketHistorique.evenement == "termine"
    )
    assert logged == [{"acteur": "systeme"}]

"""The counter (guichet) side: open a counter for some queues, call, recall, serve, transfer.

Every action is one write transaction with a conditional UPDATE ("... WHERE
statut = 'en_attente'" and so on) plus its log row (invariant 5). Two counters
calling at the same instant both pick a ticket under the same policy; the
database lets only one UPDATE match the row, the other sees no row returned
and picks again. On PostgreSQL the loser waits for the winner's row lock and
then re-checks the condition; on SQLite the IMMEDIATE transactions are serial.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from file_attente import politique
from file_attente.services import lieux, tickets
from file_attente.tables import (
    EvenementTicket,
    FileAttente,
    Guichet,
    StatutTicket,
    Ticket,
    TicketHistorique,
)
from plateforme.auth import Principal
from plateforme.db import is_sqlite, lecture, write_transaction
from plateforme.errors import Conflict, Forbidden, Invalid, NotFound
from plateforme.reactions import reagir

# How many times a counter picks again when another counter took its ticket first.
ESSAIS = 8


class TicketPris(Conflict):
    code = "ticket_pris"
    default_message = "Ce ticket vient d'être pris par un autre guichet."


class PersonneEnAttente(Conflict):
    code = "personne_en_attente"
    default_message = "Personne n'attend dans les files de ce guichet."


def verifier_site(principal: Principal, site: lieux.SiteInfo) -> None:
    """Agents of the site, its responsables and the territoire's admins work its counters."""
    if site.territoire_id != principal.territoire_id:
        raise NotFound("Ce lieu n'existe pas.", code="site_inconnu")
    if not (principal.is_admin or site.id in principal.site_ids):
        raise Forbidden("Vous ne travaillez pas dans ce lieu.")


@dataclass(frozen=True, slots=True)
class Action:
    ticket_id: int
    code: str
    statut: str
    guichet: str
    file_id: int


async def _guichet(guichet_id: int) -> dict[str, Any]:
    row = (
        await Guichet.select()
        .where(Guichet.id == guichet_id, Guichet.actif.eq(True))
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound("Ce guichet n'existe pas.", code="guichet_inconnu")
    return row


async def _mon_guichet(
    principal: Principal, guichet_id: int
) -> tuple[dict[str, Any], lieux.SiteInfo]:
    async with lecture():
        guichet = await _guichet(guichet_id)
        site = await lieux.site_info(guichet["site"])
    verifier_site(principal, site)
    if guichet["agent"] != principal.agent_id:
        raise Conflict("Ouvrez ce guichet à votre nom avant d'appeler.", code="guichet_non_ouvert")
    return guichet, site


async def ouvrir(
    principal: Principal, guichet_id: int, file_ids: Collection[int]
) -> dict[str, Any]:
    """Sit at a counter for these queues of its site (taking it over from whoever left it)."""
    guichet = await _guichet(guichet_id)
    site = await lieux.site_info(guichet["site"])
    verifier_site(principal, site)
    ids = sorted(set(file_ids))
    if not ids:
        raise Invalid(fields={"files": "Choisissez au moins une file d'attente."})
    valides = await FileAttente.select(FileAttente.id).where(
        FileAttente.id.is_in(ids), FileAttente.site == site.id, FileAttente.actif.eq(True)
    )
    if len(valides) != len(ids):
        raise Invalid(fields={"files": "Une de ces files n'existe pas dans ce lieu."})
    maintenant = lieux.utc_now()
    async with write_transaction():
        occupant = await Guichet.select(Guichet.agent).where(Guichet.id == guichet_id).first()
        assert occupant is not None
        if occupant["agent"] not in (None, principal.agent_id):
            en_cours = await Ticket.exists().where(
                Ticket.guichet == guichet_id,
                Ticket.statut.is_in([StatutTicket.appele, StatutTicket.en_cours]),
            )
            if en_cours:
                raise Conflict(
                    "Un autre agent reçoit quelqu'un à ce guichet.", code="guichet_occupe"
                )
        await Guichet.update(
            {Guichet.agent: principal.agent_id, Guichet.files: ids, Guichet.ouvert_at: maintenant}
        ).where(Guichet.id == guichet_id)
        # One counter per agent at a time.
        await Guichet.update(
            {Guichet.agent: None, Guichet.files: [], Guichet.ouvert_at: None}
        ).where(Guichet.agent == principal.agent_id, Guichet.id != guichet_id)
    return {**guichet, "agent": principal.agent_id, "files": ids}


async def fermer(principal: Principal, guichet_id: int) -> None:
    guichet, _site = await _mon_guichet(principal, guichet_id)
    async with write_transaction():
        occupe = await Ticket.exists().where(
            Ticket.guichet == guichet_id,
            Ticket.statut.is_in([StatutTicket.appele, StatutTicket.en_cours]),
        )
        if occupe:
            raise Conflict(
                "Terminez d'abord le ticket en cours à ce guichet.", code="guichet_occupe"
            )
        await Guichet.update(
            {Guichet.agent: None, Guichet.files: [], Guichet.ouvert_at: None}
        ).where(Guichet.id == guichet["id"])


async def _occupe(guichet_id: int, jour: Any) -> str | None:
    """The ticket at the counter today (one left over from a past day does not block it)."""
    row = (
        await Ticket.select(Ticket.code)
        .where(
            Ticket.guichet == guichet_id,
            Ticket.jour == jour,
            Ticket.statut.is_in([StatutTicket.appele, StatutTicket.en_cours]),
        )
        .first()
    )
    return None if row is None else str(row["code"])


async def _refuser_si_occupe(guichet_id: int, jour: Any) -> None:
    """One person at a time at a counter: the current ticket is ended before the next call.

    On PostgreSQL the counter's row is locked first, so that two calls from one counter
    (a double click, two tabs) are serial there too and cannot both pass this check."""
    if not is_sqlite():
        await Guichet.raw("SELECT id FROM guichet WHERE id = {} FOR UPDATE", guichet_id)
    if (occupe := await _occupe(guichet_id, jour)) is not None:
        raise Conflict(
            f"Le ticket {occupe} est encore à ce guichet : terminez-le ou marquez-le absent.",
            code="guichet_occupe",
        )


async def _log(
    ticket_id: int,
    evenement: EvenementTicket,
    statut: StatutTicket,
    principal: Principal,
    guichet_id: int,
    maintenant: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    await TicketHistorique.insert(
        TicketHistorique(
            ticket=ticket_id,
            evenement=evenement,
            statut=statut,
            acteur="agent",
            agent=principal.agent_id,
            guichet=guichet_id,
            at=maintenant,
            details=details or {},
        )
    )


async def _max_de_suite(file_ids: list[int]) -> int:
    rows = await FileAttente.select(FileAttente.priorites_consecutives_max).where(
        FileAttente.id.is_in(file_ids)
    )
    return min((r["priorites_consecutives_max"] for r in rows), default=0)


async def _de_suite(file_ids: list[int], jour: Any, limite: int) -> int:
    if limite <= 0:
        return 0
    rows = (
        await Ticket.select(Ticket.priorite)
        .where(
            Ticket.file_actuelle.is_in(file_ids),
            Ticket.jour == jour,
            Ticket.appele_at.is_not_null(),
        )
        .order_by(Ticket.appele_at, ascending=False)
        .limit(limite)
    )
    return politique.prioritaires_de_suite(r["priorite"] for r in rows)


async def _prendre(
    ticket_id: int, guichet: dict[str, Any], principal: Principal, maintenant: datetime
) -> bool:
    taken = (
        await Ticket.update(
            {
                Ticket.statut: StatutTicket.appele,
                Ticket.guichet: guichet["id"],
                Ticket.agent: principal.agent_id,
                Ticket.appele_at: maintenant,
                Ticket.appels: Ticket.appels + 1,
            }
        )
        .where(Ticket.id == ticket_id, Ticket.statut == StatutTicket.en_attente)
        .returning(Ticket.id)
    )
    if taken:
        await _log(
            ticket_id,
            EvenementTicket.appele,
            StatutTicket.appele,
            principal,
            guichet["id"],
            maintenant,
        )
        await reagir(
            "ticket.appele", ticket_id=ticket_id, guichet=guichet["nom"], maintenant=maintenant
        )
    return bool(taken)


async def _action(ticket_id: int, guichet: dict[str, Any]) -> Action:
    row = (
        await Ticket.select(Ticket.id, Ticket.code, Ticket.statut, Ticket.file_actuelle)
        .where(Ticket.id == ticket_id)
        .first()
    )
    assert row is not None
    return Action(row["id"], row["code"], row["statut"], guichet["nom"], row["file_actuelle"])


async def _publier_appel(site_id: int, action: Action, maintenant: datetime, type_: str) -> None:
    await tickets.publier(
        site_id,
        {"type": type_, "file": action.file_id, "ticket": action.code, "guichet": action.guichet},
        maintenant,
    )


async def appeler_suivant(principal: Principal, guichet_id: int) -> Action:
    """Call the next ticket of the counter's queues under the call policy."""
    guichet, site = await _mon_guichet(principal, guichet_id)
    file_ids = [int(f) for f in guichet["files"] or []]
    maintenant = lieux.utc_now()
    jour = site.jour(maintenant)
    for _ in range(ESSAIS):
        async with write_transaction():
            await _refuser_si_occupe(guichet_id, jour)
            limite = await _max_de_suite(file_ids)
            choix = politique.choisir(
                await tickets.candidats(file_ids, jour),
                de_suite=await _de_suite(file_ids, jour, limite),
                max_de_suite=limite,
            )
            if choix is None:
                raise PersonneEnAttente()
            if await _prendre(choix.id, guichet, principal, maintenant):
                action = await _action(choix.id, guichet)
                break
    else:
        raise TicketPris("D'autres guichets appellent en même temps : réessayez.")
    await _publier_appel(site.id, action, maintenant, "ticket.appele")
    return action


async def _ticket_du_site(ticket_id: int, site: lieux.SiteInfo) -> dict[str, Any]:
    row = (
        await Ticket.select(
            Ticket.id,
            Ticket.code,
            Ticket.statut,
            Ticket.guichet,
            Ticket.file_actuelle,
            Ticket.jour,
            Ticket.file_actuelle.site.as_alias("site"),
        )
        .where(Ticket.id == ticket_id)
        .first()
    )
    if row is None or row["site"] != site.id:
        raise NotFound("Ce ticket n'existe pas dans ce lieu.", code="ticket_inconnu")
    return row


async def appeler(principal: Principal, guichet_id: int, ticket_id: int) -> Action:
    """Call one waiting ticket out of turn (someone the agent knows must go first)."""
    guichet, site = await _mon_guichet(principal, guichet_id)
    maintenant = lieux.utc_now()
    async with write_transaction():
        ticket = await _ticket_du_site(ticket_id, site)
        await _refuser_si_occupe(guichet_id, site.jour(maintenant))
        if ticket["jour"] != site.jour(maintenant) or not await _prendre(
            ticket_id, guichet, principal, maintenant
        ):
            raise TicketPris(f"Le ticket {ticket['code']} n'est plus en attente.")
        action = await _action(ticket_id, guichet)
    await _publier_appel(site.id, action, maintenant, "ticket.appele")
    return action


# action: (statuses it applies to, new status, event, timestamp column)
_TRANSITIONS: dict[str, tuple[tuple[StatutTicket, ...], StatutTicket, EvenementTicket]] = {
    "rappeler": ((StatutTicket.appele,), StatutTicket.appele, EvenementTicket.rappele),
    "absent": ((StatutTicket.appele,), StatutTicket.absent, EvenementTicket.absent),
    "commencer": ((StatutTicket.appele,), StatutTicket.en_cours, EvenementTicket.commence),
    "terminer": (
        (StatutTicket.appele, StatutTicket.en_cours),
        StatutTicket.termine,
        EvenementTicket.termine,
    ),
}

MESSAGES_ETAT = {
    "rappeler": "Seul un ticket appelé à ce guichet peut être rappelé.",
    "absent": "Seul un ticket appelé à ce guichet peut être marqué absent.",
    "commencer": "Seul un ticket appelé à ce guichet peut être reçu.",
    "terminer": "Ce ticket n'est pas reçu à ce guichet.",
}


async def agir(principal: Principal, guichet_id: int, ticket_id: int, action: str) -> Action:
    """Recall, mark absent, start or end the service of the counter's current ticket."""
    if action not in _TRANSITIONS:
        raise NotFound("Action inconnue.", code="action_inconnue")
    depuis, vers, evenement = _TRANSITIONS[action]
    guichet, site = await _mon_guichet(principal, guichet_id)
    maintenant = lieux.utc_now()
    values: dict[Any, Any] = {Ticket.statut: vers}
    if action == "rappeler":
        values[Ticket.appels] = Ticket.appels + 1
    elif action == "commencer":
        values[Ticket.debut_service_at] = maintenant
    elif action == "terminer":
        values[Ticket.fin_service_at] = maintenant
    async with write_transaction():
        ticket = await _ticket_du_site(ticket_id, site)
        done = (
            await Ticket.update(values)
            .where(
                Ticket.id == ticket_id,
                Ticket.guichet == guichet_id,
                Ticket.statut.is_in(list(depuis)),
            )
            .returning(Ticket.id)
        )
        if not done:
            if ticket["guichet"] not in (None, guichet_id):
                raise TicketPris(f"Le ticket {ticket['code']} est pris par un autre guichet.")
            raise Conflict(MESSAGES_ETAT[action], code="etat_ticket")
        await _log(ticket_id, evenement, vers, principal, guichet_id, maintenant)
        result = await _action(ticket_id, guichet)
    await _publier_appel(site.id, result, maintenant, f"ticket.{evenement}")
    return result


async def transferer(
    principal: Principal, guichet_id: int, ticket_id: int, file_cible_id: int
) -> Action:
    """Send a ticket to another queue of the site; it keeps its code, and its place by arrival
    time or goes last, as the target queue says."""
    guichet, site = await _mon_guichet(principal, guichet_id)
    cible = await tickets.file_du_site(file_cible_id, site.id)
    maintenant = lieux.utc_now()
    async with write_transaction():
        ticket = await _ticket_du_site(ticket_id, site)
        if ticket["file_actuelle"] == cible["id"]:
            raise Invalid(fields={"file": "Le ticket est déjà dans cette file."})
        values: dict[Any, Any] = {
            Ticket.statut: StatutTicket.en_attente,
            Ticket.file_actuelle: cible["id"],
            Ticket.guichet: None,
            Ticket.agent: None,
            Ticket.appele_at: None,
            Ticket.debut_service_at: None,
        }
        if not cible["transfert_garde_rang"]:
            values[Ticket.rang_at] = maintenant
        done = (
            await Ticket.update(values)
            .where(
                Ticket.id == ticket_id,
                (
                    (Ticket.guichet == guichet_id)
                    & Ticket.statut.is_in([StatutTicket.appele, StatutTicket.en_cours])
                )
                | (Ticket.statut == StatutTicket.en_attente),
            )
            .returning(Ticket.id)
        )
        if not done:
            raise TicketPris(f"Le ticket {ticket['code']} ne peut plus être transféré d'ici.")
        await _log(
            ticket_id,
            EvenementTicket.transfere,
            StatutTicket.en_attente,
            principal,
            guichet_id,
            maintenant,
            {"de": ticket["file_actuelle"], "vers": cible["id"]},
        )
    await tickets.publier(
        site.id,
        {
            "type": "ticket.transfere",
            "file": ticket["file_actuelle"],
            "file_cible": cible["id"],
            "ticket": ticket["code"],
        },
        maintenant,
    )
    return Action(ticket_id, ticket["code"], StatutTicket.en_attente, guichet["nom"], cible["id"])


async def annuler(principal: Principal, site_id: int, ticket_id: int) -> Action:
    """Cancel a waiting or called ticket (the person left, a duplicate)."""
    site = await lieux.site_info(site_id)
    verifier_site(principal, site)
    maintenant = lieux.utc_now()
    async with write_transaction():
        ticket = await _ticket_du_site(ticket_id, site)
        done = (
            await Ticket.update({Ticket.statut: StatutTicket.annule})
            .where(
                Ticket.id == ticket_id,
                Ticket.statut.is_in([StatutTicket.en_attente, StatutTicket.appele]),
            )
            .returning(Ticket.id)
        )
        if not done:
            raise Conflict("Ce ticket ne peut plus être annulé.", code="etat_ticket")
        await TicketHistorique.insert(
            TicketHistorique(
                ticket=ticket_id,
                evenement=EvenementTicket.annule,
                statut=StatutTicket.annule,
                acteur="agent",
                agent=principal.agent_id,
                guichet=ticket["guichet"],
                at=maintenant,
            )
        )
    await tickets.publier(
        site.id,
        {"type": "ticket.annule", "file": ticket["file_actuelle"], "ticket": ticket["code"]},
        maintenant,
    )
    return Action(ticket_id, ticket["code"], StatutTicket.annule, "", ticket["file_actuelle"])

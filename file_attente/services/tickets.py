"""Issuing tickets and reading where a ticket stands.

A ticket's number comes from a per-queue, per-day counter incremented by one
atomic upsert in the issuing transaction (invariant 2): on PostgreSQL the
upsert locks the counter row until commit, on SQLite the IMMEDIATE write
transaction serialises the writers; a number is never given twice and never
goes back, even when an issuing transaction fails after taking it (the gap is
harmless, a repeated number is not).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from file_attente import estimation, politique
from file_attente.services import lieux
from file_attente.tables import (
    EvenementTicket,
    FileAttente,
    Guichet,
    OrigineTicket,
    Priorite,
    StatutTicket,
    Ticket,
    TicketHistorique,
)
from plateforme import evenements
from plateforme.db import engine, is_sqlite, lecture, write_transaction
from plateforme.errors import Conflict, NotFound, TooManyRequests
from plateforme.settings import get_settings
from plateforme.telephones import mobile_e164


class FileFermee(Conflict):
    code = "file_fermee"
    default_message = "Cette file d'attente est fermée pour le moment."


@dataclass(frozen=True, slots=True)
class TicketEmis:
    id: int
    code: str
    jeton: str
    numero: int
    file_id: int
    file_nom: str
    site_id: int
    emis_at: datetime
    devant: int
    attente_minutes: int


def code_ticket(prefixe: str, numero: int) -> str:
    return f"{prefixe}{numero:03d}"


async def _prochain_numero(file_id: int, jour: date) -> int:
    """The atomic upsert of the counter; must run inside the issuing write transaction."""
    sql = (
        "INSERT INTO compteur_ticket (file, jour, dernier) VALUES ({}, {}, 1) "
        "ON CONFLICT (file, jour) DO UPDATE SET dernier = compteur_ticket.dernier + 1 "
        "RETURNING dernier"
    )
    valeur: Any = jour.isoformat() if is_sqlite() else jour
    rows = await engine().run_querystring(_querystring(sql, file_id, valeur))
    return int(rows[0]["dernier"])


def _querystring(sql: str, *args: Any) -> Any:
    from piccolo.querystring import QueryString

    return QueryString(sql, *args)


async def file_du_site(file_id: int, site_id: int | None = None) -> dict[str, Any]:
    query = FileAttente.select().where(FileAttente.id == file_id, FileAttente.actif.eq(True))
    if site_id is not None:
        query = query.where(FileAttente.site == site_id)
    row = await query.output(load_json=True).first()
    if row is None:
        raise NotFound("Cette file d'attente n'existe pas dans ce lieu.", code="file_inconnue")
    return row


async def _verifier_cadence(appareil: int, maintenant: datetime) -> None:
    recents = await Ticket.count().where(
        Ticket.appareil == appareil, Ticket.emis_at > maintenant - timedelta(minutes=1)
    )
    if recents >= get_settings().borne_tickets_par_minute:
        raise TooManyRequests(
            "Trop de tickets pris sur cette borne en une minute. Patientez un instant.",
            retry_after=60,
        )


async def emettre_dans_transaction(
    file: dict[str, Any],
    site: lieux.SiteInfo,
    *,
    origine: OrigineTicket,
    priorite: int = Priorite.normale,
    appareil: int | None = None,
    telephone: str = "",
    rdv_id: int | None = None,
    agent_id: int | None = None,
    maintenant: datetime,
) -> dict[str, Any]:
    """Checks, numbers and inserts one ticket with its log row; the caller owns the transaction."""
    plages = lieux.plages_du_jour(
        site,
        lieux.horaires_file(site, file["horaires"]),
        await lieux.fermetures(site.id, site.jour(maintenant)),
        maintenant,
    )
    if not lieux.est_ouverte(plages, site.maintenant_local(maintenant)):
        raise FileFermee(f"La file « {file['nom']} » est fermée pour le moment.")
    if appareil is not None:
        await _verifier_cadence(appareil, maintenant)
    jour = site.jour(maintenant)
    numero = await _prochain_numero(file["id"], jour)
    ticket = Ticket(
        file=file["id"],
        file_actuelle=file["id"],
        jour=jour,
        numero=numero,
        code=code_ticket(file["prefixe"], numero),
        jeton=secrets.token_urlsafe(24)[:32],
        statut=StatutTicket.en_attente,
        priorite=priorite,
        origine=origine,
        rdv=rdv_id,
        appareil=appareil,
        telephone=telephone,
        rang_at=maintenant,
        emis_at=maintenant,
    )
    await ticket.save()
    acteur = "borne" if appareil is not None else ("agent" if agent_id else "usager")
    await TicketHistorique.insert(
        TicketHistorique(
            ticket=ticket.id,
            evenement=EvenementTicket.emis,
            statut=StatutTicket.en_attente,
            acteur=acteur,
            agent=agent_id,
            at=maintenant,
            details={"origine": str(origine), "priorite": priorite},
        )
    )
    return {"id": ticket.id, "code": ticket.code, "jeton": ticket.jeton, "numero": numero}


async def emettre(
    file_id: int,
    *,
    site_id: int | None = None,
    origine: OrigineTicket,
    priorite: int = Priorite.normale,
    appareil: int | None = None,
    telephone: str = "",
    agent_id: int | None = None,
    maintenant: datetime | None = None,
) -> TicketEmis:
    """A new ticket at the end of a queue; published to the site's screens after commit."""
    maintenant = maintenant or lieux.utc_now()
    if telephone:
        telephone = mobile_e164(telephone, field="telephone")
    async with lecture():
        file = await file_du_site(file_id, site_id)
        site = await lieux.site_info(file["site"])
    async with write_transaction():
        emis = await emettre_dans_transaction(
            file,
            site,
            origine=origine,
            priorite=priorite,
            appareil=appareil,
            telephone=telephone,
            agent_id=agent_id,
            maintenant=maintenant,
        )
    # After the commit, the event's counts and the answer from one snapshot (one SQLite
    # connection, not three).
    async with lecture():
        await publier_emis(site.id, file["id"], emis["code"], maintenant, site=site)
        return await ticket_emis(emis["id"], maintenant)


async def ticket_emis(ticket_id: int, maintenant: datetime) -> TicketEmis:
    row = (
        await Ticket.select(
            Ticket.id,
            Ticket.code,
            Ticket.jeton,
            Ticket.numero,
            Ticket.emis_at,
            Ticket.file_actuelle.id.as_alias("file_id"),
            Ticket.file_actuelle.nom.as_alias("file_nom"),
            Ticket.file_actuelle.site.as_alias("site_id"),
        )
        .where(Ticket.id == ticket_id)
        .first()
    )
    if row is None:
        raise NotFound("Ce ticket n'existe pas.", code="ticket_inconnu")
    position = await position_ticket(ticket_id, maintenant)
    return TicketEmis(
        id=row["id"],
        code=row["code"],
        jeton=row["jeton"],
        numero=row["numero"],
        file_id=row["file_id"],
        file_nom=row["file_nom"],
        site_id=row["site_id"],
        emis_at=row["emis_at"],
        devant=position.devant,
        attente_minutes=position.attente_minutes,
    )


async def emettre_a_distance(
    file_id: int,
    telephone: str,
    *,
    ip: str,
    site_id: int | None = None,
    maintenant: datetime | None = None,
) -> TicketEmis:
    """Join a queue from home: a mobile is required, one waiting ticket per number and queue,
    and a limit per address (the SMS sent to these numbers are paid for)."""
    from rdv.tables import TentativeCode

    maintenant = maintenant or lieux.utc_now()
    telephone = mobile_e164(telephone, field="telephone")
    cle = f"distance:{ip}"[:64]
    recents = await TentativeCode.count().where(
        TentativeCode.ip == cle, TentativeCode.at > maintenant - timedelta(hours=1)
    )
    if recents >= get_settings().tickets_distance_par_heure:
        raise TooManyRequests(
            "Trop de tickets demandés depuis cette connexion. Réessayez dans une heure.",
            retry_after=3600,
        )
    deja = await Ticket.exists().where(
        Ticket.file_actuelle == file_id,
        Ticket.telephone == telephone,
        Ticket.origine == OrigineTicket.distance,
        Ticket.statut == StatutTicket.en_attente,
    )
    if deja:
        raise Conflict(
            "Ce numéro a déjà un ticket en attente dans cette file.",
            code="deja_en_file",
            fields={"telephone": "Ce numéro a déjà un ticket en attente dans cette file."},
        )
    emis = await emettre(
        file_id,
        site_id=site_id,
        origine=OrigineTicket.distance,
        telephone=telephone,
        maintenant=maintenant,
    )
    async with write_transaction():
        await TentativeCode(ip=cle, code=emis.code, succes=True, at=maintenant).save()
    return emis


async def en_attente_par_file(site_id: int, jour: date) -> dict[int, int]:
    rows = await Ticket.raw(
        "SELECT t.file_actuelle AS file, count(*) AS n FROM ticket t "
        "JOIN file_attente f ON f.id = t.file_actuelle "
        "WHERE f.site = {} AND t.jour = {} AND t.statut = 'en_attente' GROUP BY t.file_actuelle",
        site_id,
        jour.isoformat() if is_sqlite() else jour,
    )
    return {int(r["file"]): int(r["n"]) for r in rows}


async def publier(
    site_id: int,
    evenement: dict[str, Any],
    maintenant: datetime,
    *,
    site: lieux.SiteInfo | None = None,
) -> None:
    """Publish one ticket event with the site's fresh waiting counts (`site`: its info, when
    the caller has read it already)."""
    async with lecture():
        site = site or await lieux.site_info(site_id)
        compte = await en_attente_par_file(site_id, site.jour(maintenant))
    evenement = {
        **evenement,
        "site": site_id,
        "at": maintenant.isoformat(),
        "en_attente": {str(k): v for k, v in compte.items()},
    }
    evenements.publier(evenements.canal_site(site_id), evenement)


async def publier_emis(
    site_id: int,
    file_id: int,
    code: str,
    maintenant: datetime,
    *,
    site: lieux.SiteInfo | None = None,
) -> None:
    await publier(
        site_id, {"type": "ticket.emis", "file": file_id, "ticket": code}, maintenant, site=site
    )


@dataclass(frozen=True, slots=True)
class Position:
    devant: int
    attente_minutes: int


async def durees_recentes(file_id: int, maintenant: datetime) -> list[float]:
    """Service durations (call to end) of the queue over the last week, newest first."""
    rows = (
        await Ticket.select(Ticket.appele_at, Ticket.fin_service_at)
        .where(
            Ticket.file_actuelle == file_id,
            Ticket.fin_service_at.is_not_null(),
            Ticket.appele_at.is_not_null(),
            Ticket.fin_service_at > maintenant - timedelta(days=7),
        )
        .order_by(Ticket.fin_service_at, ascending=False)
        .limit(estimation.ECHANTILLON)
    )
    return [(r["fin_service_at"] - r["appele_at"]).total_seconds() for r in rows]


async def guichets_ouverts(site_id: int) -> list[dict[str, Any]]:
    return (
        await Guichet.select(Guichet.id, Guichet.nom, Guichet.files)
        .where(Guichet.site == site_id, Guichet.actif.eq(True), Guichet.agent.is_not_null())
        .output(load_json=True)
    )


def ouverts_pour(guichets: list[dict[str, Any]], file_id: int) -> int:
    return sum(1 for g in guichets if file_id in (g["files"] or []))


async def candidats(file_ids: list[int], jour: date) -> list[politique.Candidat]:
    if not file_ids:
        return []
    rows = await Ticket.select(Ticket.id, Ticket.priorite, Ticket.rang_at).where(
        Ticket.file_actuelle.is_in(file_ids),
        Ticket.jour == jour,
        Ticket.statut == StatutTicket.en_attente,
    )
    return [politique.Candidat(r["id"], r["priorite"], r["rang_at"]) for r in rows]


async def position_ticket(ticket_id: int, maintenant: datetime) -> Position:
    async with lecture():
        row = (
            await Ticket.select(
                Ticket.id,
                Ticket.priorite,
                Ticket.rang_at,
                Ticket.jour,
                Ticket.file_actuelle,
                Ticket.file_actuelle.site.as_alias("site"),
            )
            .where(Ticket.id == ticket_id)
            .first()
        )
        if row is None:
            raise NotFound("Ce ticket n'existe pas.", code="ticket_inconnu")
        attente = await candidats([row["file_actuelle"]], row["jour"])
        durees = await durees_recentes(row["file_actuelle"], maintenant)
        guichets = await guichets_ouverts(row["site"])
    cible = politique.Candidat(row["id"], row["priorite"], row["rang_at"])
    devant = politique.rang(attente, cible)
    duree = estimation.duree_service(durees)
    minutes = estimation.attente_minutes(
        devant, duree, ouverts_pour(guichets, row["file_actuelle"])
    )
    return Position(devant=devant, attente_minutes=minutes)


STATUTS_LIBELLES = {
    StatutTicket.en_attente: "En attente",
    StatutTicket.appele: "Appelé",
    StatutTicket.en_cours: "En cours",
    StatutTicket.termine: "Terminé",
    StatutTicket.absent: "Absent à l'appel",
    StatutTicket.annule: "Annulé",
    StatutTicket.transfere: "Transféré",
    StatutTicket.non_servi: "Non servi (file fermée)",
}


async def etat_ticket(jeton: str, maintenant: datetime | None = None) -> dict[str, Any]:
    """What the holder of a ticket sees on its public page: no personal data."""
    maintenant = maintenant or lieux.utc_now()
    # The ticket and its position from one snapshot (one SQLite connection, not two).
    async with lecture():
        return await _etat_ticket(jeton, maintenant)


async def _etat_ticket(jeton: str, maintenant: datetime) -> dict[str, Any]:
    row = (
        await Ticket.select(
            Ticket.id,
            Ticket.code,
            Ticket.statut,
            Ticket.jour,
            Ticket.appele_at,
            Ticket.file_actuelle.id.as_alias("file_id"),
            Ticket.file_actuelle.nom.as_alias("file_nom"),
            Ticket.file_actuelle.site.id.as_alias("site_id"),
            Ticket.file_actuelle.site.nom.as_alias("site_nom"),
            Ticket.guichet.nom.as_alias("guichet"),
        )
        .where(Ticket.jeton == jeton)
        .first()
    )
    if row is None:
        raise NotFound("Ce ticket n'existe pas.", code="ticket_inconnu")
    etat: dict[str, Any] = {
        "ticket": row["code"],
        "statut": row["statut"],
        "statut_libelle": STATUTS_LIBELLES.get(row["statut"], row["statut"]),
        "file": row["file_id"],
        "file_nom": row["file_nom"],
        "site": row["site_id"],
        "site_nom": row["site_nom"],
        "jour": row["jour"].isoformat(),
        "devant": None,
        "attente_minutes": None,
        "guichet": None,
    }
    if row["statut"] == StatutTicket.en_attente:
        position = await position_ticket(row["id"], maintenant)
        etat["devant"] = position.devant
        etat["attente_minutes"] = position.attente_minutes
    elif row["statut"] in (StatutTicket.appele, StatutTicket.en_cours):
        etat["guichet"] = row["guichet"]
    return etat


async def annuler_par_jeton(jeton: str, maintenant: datetime | None = None) -> dict[str, Any]:
    """The holder gives up their place ("Je ne viens plus"): only while still waiting."""
    maintenant = maintenant or lieux.utc_now()
    async with write_transaction():
        row = (
            await Ticket.select(Ticket.id, Ticket.code, Ticket.file_actuelle)
            .where(Ticket.jeton == jeton)
            .first()
        )
        if row is None:
            raise NotFound("Ce ticket n'existe pas.", code="ticket_inconnu")
        done = (
            await Ticket.update({Ticket.statut: StatutTicket.annule})
            .where(Ticket.id == row["id"], Ticket.statut == StatutTicket.en_attente)
            .returning(Ticket.id)
        )
        if not done:
            raise Conflict("Ce ticket n'est plus en attente.", code="ticket_plus_en_attente")
        await TicketHistorique.insert(
            TicketHistorique(
                ticket=row["id"],
                evenement=EvenementTicket.annule,
                statut=StatutTicket.annule,
                acteur="usager",
                at=maintenant,
            )
        )
        file = (
            await FileAttente.select(FileAttente.site)
            .where(FileAttente.id == row["file_actuelle"])
            .first()
        )
    assert file is not None
    await publier(
        file["site"],
        {"type": "ticket.annule", "file": row["file_actuelle"], "ticket": row["code"]},
        maintenant,
    )
    return await etat_ticket(jeton, maintenant)

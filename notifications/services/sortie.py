"""Writing to the outbox, inside the transaction of the change that causes the message.

A row is unique by its `cle` (an insert of an existing key does nothing), so a
reaction that runs twice writes once. SMS to a number that replied STOP are
not written. Non-urgent messages due in the territoire's quiet hours are moved
out of them: reminders earlier (before the evening), the rest to the morning.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.engine.sqlite import SQLiteEngine

from notifications import textes
from notifications.tables import (
    Canal,
    Message,
    OppositionSms,
    ParametresNotification,
    StatutMessage,
)
from plateforme.db import engine
from sites.tables import Territoire


@dataclass(frozen=True, slots=True)
class Parametres:
    territoire_id: int
    fuseau: str
    nom_territoire: str
    expediteur: str
    fournisseur_sms: str
    cle_sms_env: str
    secret_webhook_env: str
    url_sms: str
    fournisseur_email: str
    email_expediteur: str
    rappels_heures: tuple[int, ...]
    silence_debut: time
    silence_fin: time


async def parametres(territoire_id: int) -> Parametres:
    territoire = (
        await Territoire.select(Territoire.nom, Territoire.fuseau_horaire)
        .where(Territoire.id == territoire_id)
        .first()
    )
    if territoire is None:
        raise LookupError(f"territoire {territoire_id}")
    row = (
        await ParametresNotification.select()
        .where(ParametresNotification.territoire == territoire_id)
        .output(load_json=True)
        .first()
    )
    valeurs: dict[str, Any] = row or {
        "expediteur": "",
        "fournisseur_sms": "log",
        "cle_sms_env": "",
        "secret_webhook_env": "",
        "url_sms": "",
        "fournisseur_email": "log",
        "email_expediteur": "",
        "rappels_heures": [48, 2],
        "silence_debut": time(20, 0),
        "silence_fin": time(8, 0),
    }
    return Parametres(
        territoire_id=territoire_id,
        fuseau=territoire["fuseau_horaire"],
        nom_territoire=territoire["nom"],
        expediteur=valeurs["expediteur"] or expediteur_par_defaut(territoire["nom"]),
        fournisseur_sms=valeurs["fournisseur_sms"],
        cle_sms_env=valeurs["cle_sms_env"],
        secret_webhook_env=valeurs["secret_webhook_env"],
        url_sms=valeurs["url_sms"],
        fournisseur_email=valeurs["fournisseur_email"],
        email_expediteur=valeurs["email_expediteur"],
        rappels_heures=tuple(int(h) for h in valeurs["rappels_heures"] or ()),
        silence_debut=valeurs["silence_debut"],
        silence_fin=valeurs["silence_fin"],
    )


def expediteur_par_defaut(nom: str) -> str:
    """An 11-character alphanumeric sender from the territoire's name."""
    lettres = "".join(c for c in textes.vers_gsm7(nom).title() if c.isascii() and c.isalnum())
    return lettres[:11] or "RDV"


def en_silence(moment: datetime, p: Parametres) -> bool:
    heure = moment.astimezone(ZoneInfo(p.fuseau)).time()
    if p.silence_debut <= p.silence_fin:
        return p.silence_debut <= heure < p.silence_fin
    return heure >= p.silence_debut or heure < p.silence_fin


def fin_du_silence(moment: datetime, p: Parametres) -> datetime:
    """The first instant after `moment` outside the quiet hours (local wall clock)."""
    zone = ZoneInfo(p.fuseau)
    local = moment.astimezone(zone)
    jour = local.date()
    if local.time() >= p.silence_fin and p.silence_debut > p.silence_fin:
        jour += timedelta(days=1)
    return datetime.combine(jour, p.silence_fin, tzinfo=zone)


def debut_du_silence(moment: datetime, p: Parametres) -> datetime:
    """The last minute before the quiet hours that contain `moment`."""
    zone = ZoneInfo(p.fuseau)
    local = moment.astimezone(zone)
    jour = local.date()
    if local.time() < p.silence_fin and p.silence_debut > p.silence_fin:
        jour -= timedelta(days=1)
    return datetime.combine(jour, p.silence_debut, tzinfo=zone) - timedelta(minutes=1)


def reference() -> str:
    return "m-" + secrets.token_hex(12)


async def oppose(territoire_id: int, telephone: str) -> bool:
    return bool(
        await OppositionSms.exists().where(
            OppositionSms.territoire == territoire_id, OppositionSms.telephone == telephone
        )
    )


async def ecrire(
    p: Parametres,
    *,
    canal: Canal,
    genre: str,
    destinataire: str,
    texte: str,
    cle: str,
    du_at: datetime,
    expire_at: datetime | None = None,
    sujet: str = "",
    ics: str = "",
    urgent: bool = False,
    rdv: int | None = None,
    ticket: int | None = None,
    usager: int | None = None,
    opposition: bool | None = None,
) -> bool:
    """Write one message in the caller's transaction; False when it is not to be sent
    (a number that replied STOP, or a key already written).

    `opposition`: whether this number replied STOP, when the caller has read it
    already (`oppose`) for several messages to one number."""
    if not destinataire:
        return False
    if canal == Canal.sms:
        if opposition is None:
            opposition = await oppose(p.territoire_id, destinataire)
        if opposition:
            return False
    if not _insert_dit_si_ecrit() and await Message.exists().where(Message.cle == cle):
        return False
    mesure = textes.mesurer(texte) if canal == Canal.sms else None
    ecrit = await Message.insert(
        Message(
            territoire=p.territoire_id,
            canal=canal,
            genre=genre,
            destinataire=destinataire,
            sujet=sujet,
            texte=texte,
            ics=ics,
            rdv=rdv,
            ticket=ticket,
            usager=usager,
            cle=cle,
            reference=reference(),
            du_at=du_at,
            expire_at=expire_at,
            urgent=urgent,
            statut=StatutMessage.en_attente,
            segments=mesure.segments if mesure else 0,
            encodage=mesure.encodage if mesure else "",
        )
    ).on_conflict(action="DO NOTHING")
    # The insert returns the new row's id, none when the key was there: no query before.
    return bool(ecrit)


def _insert_dit_si_ecrit() -> bool:
    """Whether an insert that did nothing returns no row: RETURNING, but SQLite has it
    from 3.35 only (Piccolo then reads the last rowid instead)."""
    db = engine()
    return not isinstance(db, SQLiteEngine) or db.get_version_sync() >= 3.35


async def annuler_en_attente(
    *,
    rdv: int | None = None,
    ticket: int | None = None,
    usager: int | None = None,
    genres: tuple[str, ...] = (),
) -> int:
    """Cancel what was still to be sent about an rdv or a ticket (in the caller's transaction)."""
    query = Message.update({Message.statut: StatutMessage.annule}).where(
        Message.statut == StatutMessage.en_attente
    )
    if rdv is not None:
        query = query.where(Message.rdv == rdv)
    if ticket is not None:
        query = query.where(Message.ticket == ticket)
    if usager is not None:
        query = query.where(Message.usager == usager)
    if genres:
        query = query.where(Message.genre.is_in(list(genres)))
    rows = await query.returning(Message.id)
    return len(rows)

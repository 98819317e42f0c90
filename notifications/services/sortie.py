"""Writing to the outbox, inside the transaction of the change that causes the message.

A row is unique by its `cle` (an insert of an existing key does nothing), so a
reaction that runs twice writes once. SMS to a number that replied STOP are
not written. Non-urgent messages due in the territoire's quiet hours are moved
out of them: reminders earlier (before the evening), the rest to the morning.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.engine.sqlite import SQLiteEngine

from notifications import textes
from notifications.tables import (
    Canal,
    Message,
    ParametresNotification,
    StatutMessage,
)
from plateforme.db import engine, lignes


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


# The settings' columns, in Parametres' order: the query and the defaults both come from
# the table, so that a territoire without its own row gets the table's defaults.
_REGLAGES = (
    ParametresNotification.expediteur,
    ParametresNotification.fournisseur_sms,
    ParametresNotification.cle_sms_env,
    ParametresNotification.secret_webhook_env,
    ParametresNotification.url_sms,
    ParametresNotification.fournisseur_email,
    ParametresNotification.email_expediteur,
    ParametresNotification.rappels_heures,
    ParametresNotification.silence_debut,
    ParametresNotification.silence_fin,
)


def _defaut(colonne: Any) -> Any:
    """A column's default as a value (Piccolo wraps a time's in a TimeCustom)."""
    defaut = colonne.default
    return defaut.python() if hasattr(defaut, "python") else defaut


_DEFAUTS = [_defaut(c) for c in _REGLAGES]
_PARAMETRES_SQL = (
    "SELECT t.nom, t.fuseau_horaire, p.id, "
    + ", ".join(f"p.{c._meta.db_column_name}" for c in _REGLAGES)
    + " FROM territoire t LEFT JOIN parametres_notification p ON p.territoire = t.id"
    " WHERE t.id = {}"
)


async def parametres(territoire_id: int) -> Parametres:
    """The territoire's settings, or the defaults; one query written once, since every
    booking reads them in its write transaction."""
    rows = await lignes(_PARAMETRES_SQL, territoire_id)
    if not rows:
        raise LookupError(f"territoire {territoire_id}")
    nom, fuseau, reglee, *valeurs = rows[0]
    (
        expediteur,
        fournisseur_sms,
        cle_sms_env,
        secret_webhook_env,
        url_sms,
        fournisseur_email,
        email_expediteur,
        rappels_heures,
        silence_debut,
        silence_fin,
    ) = _DEFAUTS if reglee is None else valeurs
    return Parametres(
        territoire_id=territoire_id,
        fuseau=fuseau,
        nom_territoire=nom,
        expediteur=expediteur or expediteur_par_defaut(nom),
        fournisseur_sms=fournisseur_sms,
        cle_sms_env=cle_sms_env,
        secret_webhook_env=secret_webhook_env,
        url_sms=url_sms,
        fournisseur_email=fournisseur_email,
        email_expediteur=email_expediteur,
        rappels_heures=heures(rappels_heures),
        silence_debut=silence_debut,
        silence_fin=silence_fin,
    )


def heures(valeur: str | list[int] | None) -> tuple[int, ...]:
    """Reminder hours as stored (a JSON column, read as text by `lignes`)."""
    if isinstance(valeur, str):
        valeur = json.loads(valeur)
    return tuple(int(h) for h in valeur or ())


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
        await lignes(
            "SELECT 1 FROM opposition_sms WHERE territoire = {} AND telephone = {} LIMIT 1",
            territoire_id,
            telephone,
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
    returning = _insert_dit_si_ecrit()
    if not returning and await Message.exists().where(Message.cle == cle):
        return False
    mesure = textes.mesurer(texte) if canal == Canal.sms else None
    ecrit = await lignes(
        _INSERT_MESSAGE + (" RETURNING id" if returning else ""),
        p.territoire_id,
        str(canal),
        genre,
        destinataire,
        sujet,
        texte,
        ics,
        rdv,
        ticket,
        usager,
        cle,
        reference(),
        du_at,
        expire_at,
        urgent,
        str(StatutMessage.en_attente),
        mesure.segments if mesure else 0,
        mesure.encodage if mesure else "",
        datetime.now(UTC),
    )
    # The insert returns the new row's id, none when the key was there: no query before.
    return bool(ecrit) or not returning


# Written once rather than built by Piccolo for each message (three for each booking,
# in its write transaction); the other columns take their defaults.
_INSERT_MESSAGE = """INSERT INTO message (territoire, canal, genre, destinataire, sujet, texte,
    ics, rdv, ticket, usager, cle, reference, du_at, expire_at, urgent, statut, segments,
    encodage, created_at)
VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})
ON CONFLICT (cle) DO NOTHING"""


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

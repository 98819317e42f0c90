"""Tables of the notifications app: the outbox, the territoires' settings, STOP."""

from __future__ import annotations

from datetime import time
from enum import StrEnum

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from file_attente.tables import Ticket
from rdv.tables import Motif, Rdv, Usager
from sites.tables import Territoire


class ParametresNotification(Table, tablename="parametres_notification"):
    """Per territoire: providers, sender, reminders, quiet hours. Keys are never stored here:
    only the NAMES of the environment variables that hold them."""

    territoire = ForeignKey(references=Territoire, null=False, unique=True)
    # Alphanumeric SMS sender, 11 characters at most ("CD31", "HautsDeFr").
    expediteur = Varchar(length=11, default="")
    fournisseur_sms = Varchar(length=20, default="log")
    cle_sms_env = Varchar(length=64, default="")
    # Secret expected on the provider's webhooks (name of the environment variable).
    secret_webhook_env = Varchar(length=64, default="")
    # Base URL override (a provider's sandbox, the tests' fake server).
    url_sms = Varchar(length=255, default="")
    fournisseur_email = Varchar(length=20, default="log")
    email_expediteur = Varchar(length=255, default="")
    # Hours before the rdv, in local wall-clock time.
    rappels_heures = JSON(default=[48, 2])
    silence_debut = Time(default=time(20, 0))
    silence_fin = Time(default=time(8, 0))


class RappelsMotif(Table, tablename="rappels_motif"):
    """A motif's own reminders (hours before), instead of its territoire's."""

    motif = ForeignKey(references=Motif, null=False, unique=True)
    rappels_heures = JSON(default=[48, 2])


class Canal(StrEnum):
    sms = "sms"
    email = "email"


class StatutMessage(StrEnum):
    en_attente = "en_attente"
    en_cours = "en_cours"  # claimed by a worker, being sent
    envoye = "envoye"
    delivre = "delivre"
    echec = "echec"
    annule = "annule"
    expire = "expire"


class Message(Table, tablename="message"):
    """One SMS or e-mail to send: written in the transaction of the change that causes it."""

    territoire = ForeignKey(references=Territoire, null=False, index=True)
    canal = Varchar(length=10, choices=Canal)
    # confirmation, rappel, deplacement, annulation, tour_proche, appel
    genre = Varchar(length=30)
    destinataire = Varchar(length=255)
    sujet = Varchar(length=255, default="")
    texte = Text()
    # E-mails: the ICS invitation or cancellation attached.
    ics = Text(default="")
    rdv = ForeignKey(references=Rdv, null=True, default=None, on_delete=OnDelete.set_null)
    ticket = ForeignKey(references=Ticket, null=True, default=None, on_delete=OnDelete.set_null)
    usager = ForeignKey(references=Usager, null=True, default=None, on_delete=OnDelete.set_null)
    # What makes a message unique ("rdv:12:rappel:48:s0"): a second write is a no-op.
    cle = Varchar(length=120, unique=True)
    # Our id at the provider's, for reconciliation and delivery reports.
    reference = Varchar(length=40, unique=True)
    du_at = Timestamptz(index=True)
    # Past this, sending it is of no use (the rdv has begun): it expires instead.
    expire_at = Timestamptz(null=True, default=None)
    # Not held back by the quiet hours ("your turn", a same-day change).
    urgent = Boolean(default=False)
    statut = Varchar(length=20, choices=StatutMessage, default=StatutMessage.en_attente)
    tentatives = Integer(default=0)
    # The last try failed in a way where the provider may have the message (a lost
    # answer): the next try asks the provider before sending again.
    a_verifier = Boolean(default=False)
    verrou_at = Timestamptz(null=True, default=None)
    fournisseur = Varchar(length=20, default="")
    fournisseur_id = Varchar(length=100, null=True, default=None, index=True)
    segments = Integer(default=0)
    encodage = Varchar(length=10, default="")
    derniere_erreur = Text(default="")
    envoye_at = Timestamptz(null=True, default=None)
    delivre_at = Timestamptz(null=True, default=None)
    anonymise = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class OppositionSms(Table, tablename="opposition_sms"):
    """A number that replied STOP: no more SMS to it from this territoire."""

    territoire = ForeignKey(references=Territoire, null=False, index=True)
    telephone = Varchar(length=20, index=True)
    at = Timestamptz(default=TimestamptzNow())
    source = Varchar(length=20, default="stop")

"""Tables of the file_attente app. The per-queue, per-day numbering (invariant 2) and the
composite unique indexes are created by a migration."""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from rdv.tables import Rdv
from sites.tables import Agent, Service, Site


class FileAttente(Table, tablename="file_attente"):
    """The walk-in queue of one service at one site."""

    site = ForeignKey(references=Site, null=False, index=True)
    service = ForeignKey(references=Service, null=False, index=True)
    nom = Varchar(length=100)
    # First letter(s) of its tickets' codes: "A" gives A001, A002...
    prefixe = Varchar(length=3, default="A")
    # Same shape as Site.horaires; null: the site's hours.
    horaires = JSON(null=True, default=None)
    # Call policy: at most this many priority tickets called in a row while a
    # walk-in ticket waits (anti-starvation); 0 calls in arrival order only.
    priorites_consecutives_max = Integer(default=2)
    # A ticket transferred here keeps its arrival time (True) or goes last.
    transfert_garde_rang = Boolean(default=True)
    # "Your turn is near" when this many tickets are ahead (notifications).
    alerte_avant = Integer(default=3)
    actif = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class CompteurTicket(Table, tablename="compteur_ticket"):
    """The last number given in a queue on a (local) day; only ever incremented."""

    file = ForeignKey(references=FileAttente, null=False, on_delete=OnDelete.restrict)
    jour = Date()
    dernier = Integer(default=0)


class Guichet(Table, tablename="guichet"):
    """A counter of a site; an agent opens it for some queues and calls from it."""

    site = ForeignKey(references=Site, null=False, index=True)
    # What the screen shows and the speech says: "3", "Accueil".
    nom = Varchar(length=40)
    actif = Boolean(default=True)
    # Who sits there now and which queues they serve (ids); null: closed.
    agent = ForeignKey(references=Agent, null=True, default=None, on_delete=OnDelete.set_null)
    files = JSON(default=[])
    ouvert_at = Timestamptz(null=True, default=None)


class StatutTicket(StrEnum):
    en_attente = "en_attente"
    appele = "appele"
    en_cours = "en_cours"
    termine = "termine"
    absent = "absent"
    annule = "annule"
    transfere = "transfere"  # kept for the log; the ticket itself moves queue
    non_servi = "non_servi"  # still waiting when its queue closed


# Statuses in which a ticket still needs someone.
STATUTS_OUVERTS = (StatutTicket.en_attente, StatutTicket.appele, StatutTicket.en_cours)


class OrigineTicket(StrEnum):
    borne = "borne"
    accueil = "accueil"
    rdv = "rdv"
    distance = "distance"


class Priorite:
    normale = 0
    # A person with a priority card, declared at the reception desk.
    carte = 1
    # An appointment checked in: served around its time.
    rdv = 2


class Ticket(Table, tablename="ticket"):
    # The queue that numbered it (with jour and numero: unique, never changes).
    file = ForeignKey(references=FileAttente, null=False, index=True, on_delete=OnDelete.restrict)
    # The queue it waits in now: another one after a transfer; the code stays.
    file_actuelle = ForeignKey(
        references=FileAttente, null=False, index=True, on_delete=OnDelete.restrict
    )
    # The local day of the site the number belongs to.
    jour = Date(index=True)
    numero = Integer()
    # "A042": what the person, the screen and the speech know it by.
    code = Varchar(length=8)
    # Unguessable: the person's public page and websocket (no personal data there).
    jeton = Varchar(length=32, unique=True, index=True)
    statut = Varchar(length=20, choices=StatutTicket, default=StatutTicket.en_attente)
    priorite = Integer(default=Priorite.normale)
    origine = Varchar(length=20, choices=OrigineTicket, default=OrigineTicket.borne)
    rdv = ForeignKey(references=Rdv, null=True, default=None, on_delete=OnDelete.restrict)
    # The device that issued it (bornes owns devices; no foreign key across that arrow).
    appareil = Integer(null=True, default=None, index=True)
    # Mobile in E.164 for "your turn is near"; removed at the end of the day.
    telephone = Varchar(length=20, default="")
    # The queue order: arrival time, or transfer time when it goes last.
    rang_at = Timestamptz(default=TimestamptzNow())
    emis_at = Timestamptz(default=TimestamptzNow())
    appele_at = Timestamptz(null=True, default=None)
    debut_service_at = Timestamptz(null=True, default=None)
    fin_service_at = Timestamptz(null=True, default=None)
    guichet = ForeignKey(references=Guichet, null=True, default=None, on_delete=OnDelete.restrict)
    agent = ForeignKey(references=Agent, null=True, default=None, on_delete=OnDelete.restrict)
    appels = Integer(default=0)


class EvenementTicket(StrEnum):
    emis = "emis"
    appele = "appele"
    rappele = "rappele"
    commence = "commence"
    termine = "termine"
    absent = "absent"
    transfere = "transfere"
    annule = "annule"
    non_servi = "non_servi"


class TicketHistorique(Table, tablename="ticket_historique"):
    """Append-only: every event of a ticket, with who, at which counter and when."""

    ticket = ForeignKey(references=Ticket, null=False, index=True, on_delete=OnDelete.restrict)
    evenement = Varchar(length=20, choices=EvenementTicket)
    statut = Varchar(length=20)
    acteur = Varchar(length=20)  # agent, borne, usager, systeme
    agent = ForeignKey(references=Agent, null=True, default=None, on_delete=OnDelete.restrict)
    guichet = ForeignKey(references=Guichet, null=True, default=None, on_delete=OnDelete.restrict)
    at = Timestamptz(default=TimestamptzNow(), index=True)
    details = JSON(default={})

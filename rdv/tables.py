"""Tables of the rdv app. The no-overlap and capacity guarantees are created by a
migration (an exclusion constraint on PostgreSQL, triggers on SQLite)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
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

from sites.services.communes import normalise
from sites.tables import Agent, Service, Site, Territoire


class Canal(StrEnum):
    sur_place = "sur_place"
    telephone = "telephone"
    visio = "visio"
    domicile = "domicile"


class Motif(Table, tablename="motif"):
    service = ForeignKey(references=Service, null=False, index=True)
    nom = Varchar(length=150)
    duree_minutes = Integer(default=30)
    canal = Varchar(length=20, choices=Canal, default=Canal.sur_place)
    # False: only agents book it (a follow-up, a home visit).
    reservable_en_ligne = Boolean(default=True)
    # Online booking window: not before now + delai_min, not after now + delai_max.
    delai_min_minutes = Integer(default=120)
    delai_max_jours = Integer(default=60)
    collectif = Boolean(default=False)
    capacite = Integer(null=True, default=None)
    annulable_par_usager = Boolean(default=True)
    deplacable_par_usager = Boolean(default=True)
    # The usager may cancel or move until this many hours before the rdv.
    delai_annulation_heures = Integer(default=24)
    # Pack créneaux right after the previous rdv instead of keeping the grid.
    accoler = Boolean(default=False)
    instructions = Text(default="")
    actif = Boolean(default=True)


class PlageOuverture(Table, tablename="plage_ouverture"):
    """A recurring window, in the territoire's local wall-clock time."""

    agent = ForeignKey(references=Agent, null=False, index=True)
    site = ForeignKey(references=Site, null=False, index=True)
    titre = Varchar(length=150, default="")
    heure_debut = Time()
    heure_fin = Time()
    premier_jour = Date()
    # RFC 5545 RRULE value ("FREQ=WEEKLY;BYDAY=MO,TU"); null: once, on premier_jour.
    rrule = Varchar(length=255, null=True, default=None)
    fin = Date(null=True, default=None)


class PlageMotif(Table, tablename="plage_motif"):
    plage = ForeignKey(references=PlageOuverture, null=False, index=True)
    motif = ForeignKey(references=Motif, null=False, index=True)


class Absence(Table, tablename="absence"):
    agent = ForeignKey(references=Agent, null=False, index=True)
    titre = Varchar(length=150, default="")
    debut = Timestamptz()
    fin = Timestamptz()
    rrule = Varchar(length=255, null=True, default=None)


class Usager(Table, tablename="usager"):
    territoire = ForeignKey(references=Territoire, null=False, index=True)
    prenom = Varchar(length=100)
    nom = Varchar(length=100, index=True)
    # E.164 ("+33612345678"); empty when unknown.
    telephone = Varchar(length=20, default="", index=True)
    email = Varchar(length=255, default="")
    date_naissance = Date(null=True, default=None)
    # A relative (proche) booked by a responsible usager.
    responsable: ForeignKey[Usager] = ForeignKey(references="self", null=True, default=None)
    # Set when this number replied STOP to the territoire's SMS (by the notifications).
    sms_refuse_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    # First and last names folded for the agents' search ("helene" finds "Hélène"): set by
    # save(); an UPDATE of the names must set it too (see `nom_de_recherche`).
    recherche = Varchar(length=255, default="")

    def save(self, columns: Any = None) -> Any:
        self.recherche = nom_de_recherche(self.prenom, self.nom)
        if columns is not None:
            columns = [*columns, Usager.recherche]
        return super().save(columns)


def nom_de_recherche(prenom: str, nom: str) -> str:
    """What the agents' search looks into: "Hélène Dupont-Œuvray" -> "helene dupont oeuvray"."""
    return normalise(f"{prenom} {nom}")


class StatutRdv(StrEnum):
    a_venir = "a_venir"
    vu = "vu"
    absent = "absent"  # no-show
    excuse = "excuse"  # cancelled by the usager
    annule = "annule"  # cancelled by the service


# Statuses that hold the agent's time: the others free the créneau.
STATUTS_ACTIFS = (StatutRdv.a_venir, StatutRdv.vu, StatutRdv.absent)


class CanalCreation(StrEnum):
    en_ligne = "en_ligne"
    agent = "agent"
    borne = "borne"


class Rdv(Table, tablename="rdv"):
    # RESTRICT: an rdv and its history outlive nothing they refer to; agents,
    # sites and motifs are deactivated, not deleted.
    motif = ForeignKey(references=Motif, null=False, index=True, on_delete=OnDelete.restrict)
    site = ForeignKey(references=Site, null=False, index=True, on_delete=OnDelete.restrict)
    agent = ForeignKey(references=Agent, null=False, index=True, on_delete=OnDelete.restrict)
    debut = Timestamptz(index=True)
    fin = Timestamptz()
    statut = Varchar(length=20, choices=StatutRdv, default=StatutRdv.a_venir)
    # Short code given to the usager (confirmation, kiosk check-in).
    code = Varchar(length=12, unique=True)
    canal_creation = Varchar(length=20, choices=CanalCreation, default=CanalCreation.en_ligne)
    cree_par_agent = ForeignKey(
        references=Agent, null=True, default=None, on_delete=OnDelete.restrict
    )
    collectif = Boolean(default=False)
    capacite = Integer(null=True, default=None)
    # ICS SEQUENCE: bumped on every change the usager's calendar must follow.
    sequence = Integer(default=0)
    # When the usager checked in at the site (kiosk or reception); null: not yet.
    arrive_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class RdvParticipant(Table, tablename="rdv_participant"):
    """A person in an rdv: the one usager of an individual rdv, or a seat in a collective
    session. Each seat has its own code and status, so that one participant cancelling
    frees one seat without cancelling the session."""

    rdv = ForeignKey(references=Rdv, null=False, index=True, on_delete=OnDelete.restrict)
    usager = ForeignKey(references=Usager, null=False, index=True, on_delete=OnDelete.restrict)
    # The code the participant sees, cancels and checks in with: that of the rdv for
    # an individual rdv (and a session's first participant), its own for a seat.
    # Unique through the migration's unique index (SQLite cannot add a UNIQUE column);
    # null only for rows older than the column that were not an rdv's first participant.
    code = Varchar(length=12, null=True, default=None)
    # The seat's own status: a_venir, or excuse/annule once the participant left the
    # session. Only active participants count towards the session's capacity.
    statut = Varchar(length=20, choices=StatutRdv, default=StatutRdv.a_venir)
    # ICS SEQUENCE of the seat's invitation (a collective session's participants each
    # have their own calendar event, which follows them when they change sessions).
    sequence = Integer(default=0)
    # Set by the booking code: SQLite cannot add a column whose default is "now", and
    # the migration fills the older rows from their rdv.
    created_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(null=True, default=None)


class RdvHistorique(Table, tablename="rdv_historique"):
    """Append-only: every creation, status change and move, with who and when."""

    rdv = ForeignKey(references=Rdv, null=False, index=True, on_delete=OnDelete.restrict)
    evenement = Varchar(length=20)  # cree, statut, deplace
    statut = Varchar(length=20)
    debut = Timestamptz(null=True, default=None)
    acteur = Varchar(length=20)  # agent, usager, systeme
    agent = ForeignKey(references=Agent, null=True, default=None, on_delete=OnDelete.restrict)
    details = JSON(default={})
    at = Timestamptz(default=TimestamptzNow())


class FluxIcs(Table, tablename="flux_ics"):
    """An agent's private calendar feed: the URL carries a secret token, stored hashed."""

    agent = ForeignKey(references=Agent, null=False, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    revoked_at = Timestamptz(null=True, default=None)


class TentativeCode(Table, tablename="tentative_code"):
    """Look-ups of an rdv by its code, kept to rate-limit guessing across workers."""

    ip = Varchar(length=64, index=True)
    code = Varchar(length=12)
    succes = Boolean(default=False)
    at = Timestamptz(default=TimestamptzNow(), index=True)

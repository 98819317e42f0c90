"""What goes in and out of the rdv API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

Nom = Annotated[str, msgspec.Meta(max_length=100, examples=["Camille"])]


class PersonneIn(msgspec.Struct):
    prenom: Nom
    nom: Annotated[str, msgspec.Meta(max_length=100, examples=["Martin"])]
    telephone: Annotated[str, msgspec.Meta(max_length=30, examples=["06 12 34 56 78"])]
    email: Annotated[str, msgspec.Meta(max_length=255, examples=["camille.martin@exemple.fr"])] = ""


class ProcheIn(msgspec.Struct):
    """A relative (child, parent...) who comes to the rdv: the usager who books is the
    contact and gets the messages. Field errors name proche_prenom, proche_nom and
    proche_date_naissance."""

    prenom: Nom
    nom: Annotated[str, msgspec.Meta(max_length=100, examples=["Martin"])]
    date_naissance: Annotated[date | None, msgspec.Meta(examples=["2024-05-14"])] = None


class RdvCreate(msgspec.Struct):
    """A booking request: a créneau offered by the search, who books, and the relative
    who comes when it is for them. For a collective motif the créneau is a session's
    start and the request books one seat in it; the code answered is the seat's own."""

    motif_id: int
    site_id: int
    debut: Annotated[datetime, msgspec.Meta(examples=["2026-12-01T09:30:00+01:00"])]
    usager: PersonneIn
    proche: ProcheIn | None = None


class SiteCourt(msgspec.Struct):
    id: int
    nom: str
    adresse: str


class RdvPublic(msgspec.Struct):
    """A booked rdv as the usager sees it: no agent, no other person."""

    code: str
    statut: str
    debut: datetime
    fin: datetime
    fuseau: str
    motif: str
    service: str
    site: SiteCourt
    instructions: str
    # A seat in a collective session: `code` is the participant's own.
    collectif: bool = False
    pour: Annotated[str, msgspec.Meta(description="Who comes: the usager or their relative")] = ""


class RdvUsagerPublic(RdvPublic):
    """The usager's rdv found by its code, with what they may still do online."""

    cle: Annotated[
        str, msgspec.Meta(description="The key of the SMS link: proves access to this rdv")
    ] = ""
    annulable: bool = False
    deplacable: bool = False
    raison: Annotated[
        str, msgspec.Meta(description="Why it can no longer be changed online, in French")
    ] = ""


class AccesRdv(msgspec.Struct):
    """Either the key of the SMS link, or the first two letters of the last name."""

    cle: Annotated[str, msgspec.Meta(max_length=40, examples=["k3j5q2m7x9w4t6p8"])] = ""
    lettres: Annotated[str, msgspec.Meta(max_length=100, examples=["MA"])] = ""


class DeplacementRdv(AccesRdv, kw_only=True):
    debut: Annotated[datetime, msgspec.Meta(examples=["2026-12-08T10:00:00+01:00"])]


class Creneau(msgspec.Struct):
    """A free créneau, or a collective session with seats left."""

    debut: datetime
    fin: datetime
    places: (
        Annotated[
            int,
            msgspec.Meta(ge=1, description="Seats left in a collective session"),
        ]
        | None
    ) = None


class JourCreneaux(msgspec.Struct):
    date: str
    jour: str
    creneaux: list[Creneau]


class SemaineCreneaux(msgspec.Struct):
    """Free créneaux of one motif at one site, day by day, in the territoire's local time."""

    motif_id: int
    site_id: int
    fuseau: str
    jours: list[JourCreneaux]
    suivant: datetime | None = None


class MotifPublic(msgspec.Struct):
    id: int
    nom: str
    duree_minutes: int
    canal: str
    service: str
    territoire: str
    instructions: str


class SiteDisponible(msgspec.Struct):
    """A contact point offering the motif, with its distance and next free créneau."""

    id: int
    nom: str
    adresse: str
    commune: str
    telephone: str
    accessibilite: str
    distance_km: float
    prochain_creneau: Creneau | None


class ParticipantAgenda(msgspec.Struct):
    """Someone in an rdv, as their agent sees them."""

    id: int
    nom: Annotated[str, msgspec.Meta(examples=["Léa Martin (proche de Camille Martin)"])]
    telephone: Annotated[str, msgspec.Meta(description="E.164; a relative's responsable's")]
    statut: str
    sms_refuses: bool


class RdvAgendaOut(msgspec.Struct):
    """An rdv of an agenda, with the statuses the signed-in agent may set now."""

    id: int
    debut: datetime
    fin: datetime
    statut: str
    motif: str
    site_id: int
    site: str
    agent_id: int
    agent: str
    participants: list[ParticipantAgenda]
    transitions: Annotated[
        list[str], msgspec.Meta(description="Statuses the agent may set now", examples=[["vu"]])
    ]
    arrive_at: datetime | None = None
    collectif: bool = False
    capacite: int | None = None


class JourneeAgenda(msgspec.Struct):
    agent_id: int
    agent: str
    jour: date
    rdvs: list[RdvAgendaOut]


class StatutIn(msgspec.Struct):
    statut: Annotated[
        str,
        msgspec.Meta(
            description="vu, absent, a_venir (a correction) or annule",
            examples=["vu"],
        ),
    ]
    motif: Annotated[str, msgspec.Meta(max_length=200, description="Why it is cancelled")] = ""

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

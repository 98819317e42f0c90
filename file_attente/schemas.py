"""What goes in and out of the queue API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec


class TicketDemande(msgspec.Struct):
    """A ticket in a queue of the site."""

    file: int
    # Reception desk only: 1 for a priority card.
    priorite: Annotated[int, msgspec.Meta(ge=0, le=1)] = 0
    # For "your turn is near" by SMS; a mobile, optional at the kiosk and the desk.
    telephone: Annotated[str, msgspec.Meta(max_length=30, examples=["06 12 34 56 78"])] = ""


class TicketDistance(msgspec.Struct):
    """Joining a queue from home: a mobile is required to be told when to come."""

    telephone: Annotated[str, msgspec.Meta(max_length=30, examples=["06 12 34 56 78"])]


class ArriveeDemande(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(max_length=20, examples=["K7M2XQ9P"])]


class TicketOut(msgspec.Struct):
    """A ticket as its holder and the kiosk see it: no personal data."""

    ticket: str
    jeton: str
    file: int
    file_nom: str
    devant: int
    attente_minutes: int
    emis_at: datetime
    # The public page with the live place in the queue (also in the QR code).
    url: str


class ArriveeOut(msgspec.Struct):
    rdv_debut: datetime
    deja_arrive: bool
    ticket: TicketOut | None
    message: str


class GuichetOuverture(msgspec.Struct):
    files: Annotated[list[int], msgspec.Meta(min_length=1, max_length=20)]


class Transfert(msgspec.Struct):
    file: int


class ActionOut(msgspec.Struct):
    ticket_id: int
    ticket: str
    statut: str
    guichet: str
    file: int

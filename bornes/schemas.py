"""What goes in and out of the devices' API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from bornes.tables import KindAppareil


class DemandeAppairage(msgspec.Struct):
    kind: KindAppareil


class AppairageOut(msgspec.Struct):
    """Keep `jeton` secret on the device; show `code` for the manager to type."""

    appareil: int
    jeton: str
    code: str
    expire_at: datetime


class Appairage(msgspec.Struct):
    code: Annotated[str, msgspec.Meta(max_length=20, examples=["K7M2XQ"])]
    nom: Annotated[str, msgspec.Meta(max_length=100, examples=["Borne de l'entrée"])]
    kind: KindAppareil


class AppareilMoi(msgspec.Struct):
    appareil: int
    kind: str
    nom: str
    site: int | None
    appaire: bool

"""Tables of the bornes app: the devices of a site and their pairing."""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from sites.tables import Site


class KindAppareil(StrEnum):
    borne = "borne"  # a self-service kiosk
    ecran = "ecran"  # a waiting-room display


class Appareil(Table, tablename="appareil"):
    """A kiosk or a display. Created unpaired when it first asks for a pairing code; a site
    manager binds it to a site by typing that code. Only the SHA-256 of its token is stored."""

    # Null until paired.
    site = ForeignKey(references=Site, null=True, default=None, index=True)
    kind = Varchar(length=10, choices=KindAppareil, default=KindAppareil.ecran)
    nom = Varchar(length=100, default="")
    jeton_hash = Varchar(length=64, unique=True, index=True)
    # Shown on the unpaired device; cleared once paired.
    code_appairage = Varchar(length=8, null=True, default=None, index=True)
    code_expire_at = Timestamptz(null=True, default=None)
    appaire_at = Timestamptz(null=True, default=None)
    dernier_contact_at = Timestamptz(null=True, default=None)
    revoque_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())

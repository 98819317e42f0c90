"""Tables of the sites app. Composite unique constraints are created by migrations
with CREATE UNIQUE INDEX (Piccolo's composite Unique fails on SQLite)."""

from __future__ import annotations

from enum import StrEnum

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    DoublePrecision,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Commune(Table, tablename="commune"):
    insee = Varchar(length=5, unique=True, index=True)
    nom = Varchar(length=100)
    # Lower case, no accents, hyphens and apostrophes as spaces: for autocompletion.
    nom_normalise = Varchar(length=100, index=True)
    departement = Varchar(length=3, index=True)
    region = Varchar(length=3)
    # Space-separated, as in the source ("31000 31100 31200 ...").
    codes_postaux = Varchar(length=200)
    latitude = DoublePrecision(null=True, default=None)
    longitude = DoublePrecision(null=True, default=None)
    population = Integer(default=0)


class TerritoireKind(StrEnum):
    departement = "departement"
    region = "region"


class Territoire(Table, tablename="territoire"):
    nom = Varchar(length=150, unique=True)
    kind = Varchar(length=20, choices=TerritoireKind)
    # INSEE code of the département (31) or of the région (32).
    code = Varchar(length=3)
    fuseau_horaire = Varchar(length=64, default="Europe/Paris")
    created_at = Timestamptz(default=TimestamptzNow())


class Service(Table, tablename="service"):
    territoire = ForeignKey(references=Territoire, null=False, index=True)
    # Stable code used in URLs and by other systems: "pmi", "social", "antenne".
    code = Varchar(length=40)
    nom = Varchar(length=100)
    description = Text(default="")


class SiteKind(StrEnum):
    centre = "centre"
    antenne = "antenne"
    permanence = "permanence"


class Site(Table, tablename="site"):
    territoire = ForeignKey(references=Territoire, null=False, index=True)
    kind = Varchar(length=20, choices=SiteKind)
    nom = Varchar(length=150)
    adresse = Varchar(length=255)
    commune = ForeignKey(references=Commune, null=False, index=True)
    latitude = DoublePrecision()
    longitude = DoublePrecision()
    telephone = Varchar(length=30, default="")
    email = Varchar(length=255, default="")
    accessibilite = Text(default="")
    # {"lundi": [["08:30", "12:00"], ...], ...} in the territoire's local time;
    # null means "not known" (not "closed").
    horaires = JSON(null=True, default=None)
    actif = Boolean(default=True)
    # Where the row came from (an import's INSEE code, "demo:..."), unique per
    # territoire so that imports and the demo can run twice without duplicates.
    reference = Varchar(length=60, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SiteService(Table, tablename="site_service"):
    site = ForeignKey(references=Site, null=False, index=True)
    service = ForeignKey(references=Service, null=False, index=True)


class Fermeture(Table, tablename="fermeture"):
    """A closure of a site over whole days, first and last day included."""

    site = ForeignKey(references=Site, null=False, index=True)
    debut = Date()
    fin = Date()
    motif = Varchar(length=200, default="")


class Sectorisation(Table, tablename="sectorisation"):
    """Which site serves which commune for a service."""

    commune = ForeignKey(references=Commune, null=False, index=True)
    service = ForeignKey(references=Service, null=False, index=True)
    site = ForeignKey(references=Site, null=False, index=True)


class Role(StrEnum):
    admin = "admin"  # administers the whole territoire
    responsable = "responsable"  # manages their sites
    agent = "agent"


class Agent(Table, tablename="agent"):
    territoire = ForeignKey(references=Territoire, null=False, index=True)
    prenom = Varchar(length=100)
    nom = Varchar(length=100)
    email = Varchar(length=255, unique=True, index=True)
    mot_de_passe = Varchar(length=255, secret=True)
    role = Varchar(length=20, choices=Role, default=Role.agent)
    actif = Boolean(default=True)
    # Bumped to sign the agent out everywhere (password change, deactivation).
    session_epoch = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class AgentSite(Table, tablename="agent_site"):
    agent = ForeignKey(references=Agent, null=False, index=True)
    site = ForeignKey(references=Site, null=False, index=True)


class AgentService(Table, tablename="agent_service"):
    agent = ForeignKey(references=Agent, null=False, index=True)
    service = ForeignKey(references=Service, null=False, index=True)


class TentativeConnexion(Table, tablename="tentative_connexion"):
    """Sign-in attempts, kept to rate-limit guessing across every worker."""

    email = Varchar(length=255, index=True)
    ip = Varchar(length=64, index=True)
    succes = Boolean(default=False)
    at = Timestamptz(default=TimestamptzNow(), index=True)

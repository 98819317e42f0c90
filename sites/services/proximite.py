"""The public directory: where the person is, the nearest sites offering a service, communes."""

from __future__ import annotations

import datetime as dt
import heapq
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.query import Select

from plateforme.db import marques
from plateforme.errors import Invalid, NotFound
from sites.services._geometrie import EARTH_RADIUS_KM, Boite, boite_englobante, distance_km
from sites.services.horaires import (
    HorairesIllisibles,
    JourOuverture,
    parse_horaires,
    semaine,
)
from sites.services.jours_feries import jours_feries
from sites.tables import Commune, Site, SiteService

JOURS_AFFICHES = 7
LIMITE_MAX = 50
# First search radius of `sites_proches`: a box this size around the person
# holds a few dozen town halls or centres in most of France, far fewer rows
# than a whole département (the cost on SQLite grows with the rows read).
RAYON_KM = 30.0

_INSEE = re.compile(r"^[0-9][0-9AB][0-9]{3}$")
_CODE_POSTAL = re.compile(r"^[0-9]{5}$")
_COMMUNE_INCONNUE = "commune_inconnue"

__all__ = [
    "EARTH_RADIUS_KM",
    "LIMITE_MAX",
    "RAYON_KM",
    "Boite",
    "CommuneTrouvee",
    "FicheSite",
    "Point",
    "ServiceOffert",
    "SiteAnnuaire",
    "SiteProche",
    "autocomplete_communes",
    "boite_englobante",
    "distance_km",
    "fiche_site",
    "resoudre_point",
    "sites_proches",
]


@dataclass(frozen=True, slots=True)
class CommuneTrouvee:
    insee: str
    nom: str
    departement: str
    codes_postaux: tuple[str, ...]
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True, slots=True)
class Point:
    """Where the person is; `commune` when the place was given as a commune or a postcode."""

    latitude: float
    longitude: float
    commune: CommuneTrouvee | None = None


@dataclass(frozen=True, slots=True)
class SiteAnnuaire:
    """What anyone may know about an active site, with its coming days."""

    id: int
    nom: str
    kind: str
    adresse: str
    commune: str
    telephone: str
    accessibilite: str
    latitude: float
    longitude: float
    territoire: str
    semaine: tuple[JourOuverture, ...]


@dataclass(frozen=True, slots=True)
class SiteProche:
    site: SiteAnnuaire
    distance_km: float


@dataclass(frozen=True, slots=True)
class ServiceOffert:
    code: str
    nom: str


@dataclass(frozen=True, slots=True)
class FicheSite:
    site: SiteAnnuaire
    services: tuple[ServiceOffert, ...]


# --- Where the person is -------------------------------------------------------------


async def resoudre_point(
    *,
    commune: str | None,
    code_postal: str | None,
    lat: float | None,
    lon: float | None,
) -> Point:
    """The place given in exactly one way: an INSEE code, a postcode, or coordinates."""
    commune = (commune or "").strip().upper() or None
    code_postal = (code_postal or "").strip() or None
    ways = [name for name, value in (("commune", commune), ("code_postal", code_postal)) if value]
    if lat is not None or lon is not None:
        ways.append("lat" if lat is not None else "lon")
    if not ways:
        raise Invalid(
            "Indiquez une commune, un code postal ou une position.",
            fields={"commune": "Indiquez une commune, un code postal ou une position."},
        )
    if len(ways) > 1:
        message = "Indiquez le lieu d'une seule façon : commune, code postal ou position."
        raise Invalid(message, fields=dict.fromkeys(ways, message))
    if commune is not None:
        return await _point_de_commune(commune)
    if code_postal is not None:
        return await _point_de_code_postal(code_postal)
    return _point_de_position(lat, lon)


def _point_de_position(lat: float | None, lon: float | None) -> Point:
    if lat is None:
        raise Invalid(fields={"lat": "Indiquez aussi la latitude."})
    if lon is None:
        raise Invalid(fields={"lon": "Indiquez aussi la longitude."})
    # Written so that NaN fails too.
    if not -90 <= lat <= 90:
        raise Invalid(fields={"lat": "La latitude doit être comprise entre -90 et 90."})
    if not -180 <= lon <= 180:
        raise Invalid(fields={"lon": "La longitude doit être comprise entre -180 et 180."})
    return Point(latitude=lat, longitude=lon)


async def _point_de_commune(insee: str) -> Point:
    if not _INSEE.match(insee):
        raise Invalid(fields={"commune": "Indiquez le code INSEE de la commune (5 caractères)."})
    row = await _communes().where(Commune.insee == insee).first()
    if row is None:
        raise NotFound("Cette commune est inconnue.", code=_COMMUNE_INCONNUE)
    return _point(_commune_trouvee(row))


async def _point_de_code_postal(code_postal: str) -> Point:
    if not _CODE_POSTAL.match(code_postal):
        raise Invalid(fields={"code_postal": "Un code postal a 5 chiffres."})
    # Codes are 5 digits separated by spaces, so a 5-digit substring is a whole code;
    # the check below only guards against a malformed row.
    rows = await (
        _communes()
        .where(Commune.codes_postaux.like(f"%{code_postal}%"))
        .where(Commune.latitude.is_not_null())
        .order_by(Commune.population, ascending=False)
    )
    for row in rows:
        if code_postal in row["codes_postaux"].split():
            return _point(_commune_trouvee(row))
    raise NotFound("Ce code postal est inconnu.", code=_COMMUNE_INCONNUE)


def _point(commune: CommuneTrouvee) -> Point:
    if commune.latitude is None or commune.longitude is None:
        raise NotFound("La position de cette commune n'est pas connue.", code=_COMMUNE_INCONNUE)
    return Point(latitude=commune.latitude, longitude=commune.longitude, commune=commune)


def _communes() -> Select[Commune]:
    return Commune.select(
        Commune.insee,
        Commune.nom,
        Commune.departement,
        Commune.codes_postaux,
        Commune.latitude,
        Commune.longitude,
    )


def _commune_trouvee(row: dict[str, Any]) -> CommuneTrouvee:
    return CommuneTrouvee(
        insee=row["insee"],
        nom=row["nom"],
        departement=row["departement"],
        codes_postaux=tuple(row["codes_postaux"].split()),
        latitude=row["latitude"],
        longitude=row["longitude"],
    )


# --- Commune autocompletion -----------------------------------------------------------


async def autocomplete_communes(q: str, limite: int = 10) -> list[CommuneTrouvee]:
    """Communes whose name, or one of whose postcodes, starts with `q`; most populated first."""
    from sites.services.communes import normalise

    q = q.strip()
    _verifier_limite(limite)
    if len(q) > 100:
        raise Invalid(fields={"q": "Tapez au plus 100 caractères."})
    digits = q.isascii() and q.isdigit()
    prefix = q if digits else normalise(q).translate(_LIKE_WILDCARDS)
    if len(prefix) < 2:
        raise Invalid(fields={"q": "Tapez au moins 2 caractères."})
    query = _communes().order_by(Commune.population, ascending=False).order_by(Commune.nom)
    if digits:
        if len(prefix) > 5:
            return []
        # Any of the space-separated codes: the first one, or one after a space.
        query = query.where(
            Commune.codes_postaux.like(f"{prefix}%") | Commune.codes_postaux.like(f"% {prefix}%")
        )
    else:
        # The range lets both engines use the index on nom_normalise; LIKE keeps
        # the answer exact whatever the collation of the PostgreSQL database.
        query = query.where(
            (Commune.nom_normalise >= prefix)
            & (Commune.nom_normalise < prefix[:-1] + chr(ord(prefix[-1]) + 1))
            & Commune.nom_normalise.like(f"{prefix}%")
        )
    return [_commune_trouvee(row) for row in await query.limit(limite)]


_LIKE_WILDCARDS = str.maketrans("", "", "%_\\")


def _verifier_limite(limite: int) -> None:
    if not 1 <= limite <= LIMITE_MAX:
        raise Invalid(fields={"limite": f"La limite doit être comprise entre 1 et {LIMITE_MAX}."})


# --- Nearest sites --------------------------------------------------------------------


# Raw SQL for the queries of `sites_proches`: measured on SQLite, building
# a Piccolo select with joins costs about 0.3 ms, and Piccolo cannot LEFT JOIN
# the closures onto the sites (a reverse foreign key), which saves a query.
_CANDIDATS_SQL = """
SELECT s.id, s.latitude, s.longitude
FROM site s
JOIN site_service ss ON ss.site = s.id
JOIN service v ON v.id = ss.service
WHERE s.actif AND v.code = {}
"""

_SITES_SQL = """
SELECT s.id, s.nom, s.kind, s.adresse, s.telephone, s.accessibilite, s.latitude, s.longitude,
       s.horaires, c.nom AS commune_nom, c.departement, t.nom AS territoire_nom, t.fuseau_horaire,
       f.debut AS fermeture_debut, f.fin AS fermeture_fin, f.motif AS fermeture_motif
FROM site s
JOIN commune c ON c.id = s.commune
JOIN territoire t ON t.id = s.territoire
LEFT JOIN fermeture f ON f.site = s.id AND f.debut <= {} AND f.fin >= {}
WHERE s.actif AND s.id IN (%s)
"""


async def sites_proches(
    point: Point,
    *,
    service: str,
    limite: int = 10,
    territoire_id: int | None = None,
    aujourd_hui: dt.date | None = None,
) -> list[SiteProche]:
    """The active sites offering the service `service` (a Service.code), nearest first.

    Each comes with its next 7 days from today in its territoire's time zone,
    closures and the public holidays of its commune's département applied.
    Two queries in general, three at most: the positions of the candidates in a
    box around the point (all of them when the box holds fewer than `limite`
    sites within its radius), sorted here exactly, then the details and
    closures of the nearest.
    """
    _verifier_limite(limite)
    box = boite_englobante(point.latitude, point.longitude, RAYON_KM)
    nearest = await _plus_proches(point, service, territoire_id, limite, box)
    if box is not None and len(nearest) < limite:
        # The nearest ones may lie beyond the radius: look everywhere.
        nearest = await _plus_proches(point, service, territoire_id, limite, None)
    if not nearest:
        return []
    sites = await _sites_annuaire([site_id for _, site_id in nearest], aujourd_hui)
    # A site deactivated between the two queries is left out.
    return [
        SiteProche(site=sites[site_id], distance_km=km)
        for km, site_id in nearest
        if site_id in sites
    ]


async def _plus_proches(
    point: Point,
    service: str,
    territoire_id: int | None,
    limite: int,
    box: Boite | None,
) -> list[tuple[float, int]]:
    """The `limite` nearest candidates as (distance, id); with a box, only those within its radius.

    Within the radius, not the box: a site in a corner of the box may be
    farther than one outside it, so only the radius makes the answer exact.
    """
    sql = _CANDIDATS_SQL
    args: list[object] = [service]
    if territoire_id is not None:
        sql += " AND v.territoire = {}"
        args.append(territoire_id)
    if box is not None:
        sql += " AND s.latitude BETWEEN {} AND {} AND s.longitude BETWEEN {} AND {}"
        args += [box.lat_min, box.lat_max, box.lon_min, box.lon_max]
    rows = await Site.raw(sql, *args)
    # A dict: a site linked to the service of two territoires comes twice.
    positions = {row["id"]: (row["latitude"], row["longitude"]) for row in rows}
    distances = (
        (distance_km(point.latitude, point.longitude, latitude, longitude), site_id)
        for site_id, (latitude, longitude) in positions.items()
    )
    if box is not None:
        rayon_km = box.rayon_km
        distances = ((km, site_id) for km, site_id in distances if km <= rayon_km)
    return heapq.nsmallest(limite, distances)


async def fiche_site(site_id: int, *, aujourd_hui: dt.date | None = None) -> FicheSite:
    """One active site as the public sees it, with the services it offers."""
    sites = await _sites_annuaire([site_id], aujourd_hui)
    if site_id not in sites:
        raise NotFound("Ce lieu d'accueil n'existe pas ou n'est plus ouvert.", code="site_inconnu")
    rows = await (
        SiteService.select(
            SiteService.service._.code.as_alias("code"), SiteService.service._.nom.as_alias("nom")
        )
        .where(SiteService.site == site_id)
        .order_by(SiteService.service._.nom)
    )
    services = tuple(ServiceOffert(code=row["code"], nom=row["nom"]) for row in rows)
    return FicheSite(site=sites[site_id], services=services)


# Any place on Earth is at most one day ahead of or behind UTC.
_MARGE_FUSEAUX = dt.timedelta(days=1)


async def _sites_annuaire(
    site_ids: list[int], aujourd_hui: dt.date | None
) -> dict[int, SiteAnnuaire]:
    """The active ones of these sites, with their coming days: one query."""
    if aujourd_hui is None:
        utc_today = dt.datetime.now(dt.UTC).date()
        first, last = utc_today - _MARGE_FUSEAUX, utc_today + _MARGE_FUSEAUX
    else:
        first = last = aujourd_hui
    last += dt.timedelta(days=JOURS_AFFICHES - 1)
    sql = _SITES_SQL % marques(site_ids)
    details: dict[int, dict[str, Any]] = {}
    fermetures: dict[int, list[tuple[dt.date, dt.date, str]]] = defaultdict(list)
    for row in await Site.raw(sql, last, first, *site_ids):
        details.setdefault(row["id"], row)
        if row["fermeture_debut"] is not None:
            fermetures[row["id"]].append(
                (_date(row["fermeture_debut"]), _date(row["fermeture_fin"]), row["fermeture_motif"])
            )
    return {
        site_id: _site_annuaire(row, fermetures[site_id], aujourd_hui)
        for site_id, row in details.items()
    }


def _date(value: dt.date | str) -> dt.date:
    # Piccolo's SQLite converters give dates; be lenient in case a driver gives text.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _site_annuaire(
    row: dict[str, Any],
    fermetures: list[tuple[dt.date, dt.date, str]],
    aujourd_hui: dt.date | None,
) -> SiteAnnuaire:
    debut = aujourd_hui or dt.datetime.now(ZoneInfo(row["fuseau_horaire"])).date()
    fin = debut + dt.timedelta(days=JOURS_AFFICHES - 1)
    try:
        horaires = parse_horaires(row["horaires"])
    except HorairesIllisibles:
        # Hours are checked when written; a bad stored value shows as unknown
        # rather than breaking the public directory.
        horaires = None
    feries = jours_feries(row["departement"], {debut.year, fin.year})
    return SiteAnnuaire(
        id=row["id"],
        nom=row["nom"],
        kind=row["kind"],
        adresse=row["adresse"],
        commune=row["commune_nom"],
        telephone=row["telephone"],
        accessibilite=row["accessibilite"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        territoire=row["territoire_nom"],
        semaine=tuple(semaine(horaires, fermetures, feries, debut, JOURS_AFFICHES)),
    )

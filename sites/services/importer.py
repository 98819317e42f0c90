"""The `import-sites` command: validate a whole CSV of contact points, then write it at once."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from piccolo.table import Table

from plateforme.db import write_transaction
from plateforme.errors import Invalid, NotFound
from sites.services.horaires import Horaires, HorairesIllisibles, horaires_to_json, parse_horaires
from sites.services.proximite import distance_km
from sites.tables import Commune, Service, Site, SiteKind, SiteService, Territoire

REQUIRED = ("code_insee", "nom", "adresse", "latitude", "longitude", "horaires")
OPTIONAL = ("commune", "telephone", "email", "population")

# Farther than this from its commune's town hall, a site is surely a typo (swapped
# latitude and longitude, wrong INSEE code).
MAX_DISTANCE_KM = 30.0
BATCH_SIZE = 500
T = TypeVar("T")
_LENGTHS = {"nom": 150, "adresse": 255, "telephone": 30, "email": 255}


class ImportRefuse(Invalid):
    """A file refused whole; `lines` lists every bad line as (line number, French message)."""

    code = "import_refuse"
    default_message = "Fichier refusé."

    def __init__(self, message: str | None = None, *, lines: Iterable[tuple[int, str]]) -> None:
        self.lines = sorted(lines)
        super().__init__(message, fields={f"ligne {line}": text for line, text in self.lines})

    @classmethod
    def from_lines(cls, lines: list[tuple[int, str]]) -> ImportRefuse:
        count = len(lines)
        noun = "ligne invalide" if count == 1 else "lignes invalides"
        return cls(f"Fichier refusé : {count} {noun}", lines=lines)

    @classmethod
    def whole_file(cls, reason: str) -> ImportRefuse:
        return cls(f"Fichier refusé : {reason}", lines=[(1, reason)])


def lire_fichier(path: Path) -> str:
    """The text of a CSV file, UTF-8 with or without the BOM that spreadsheets add."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as error:
        raise ImportRefuse.whole_file(f"fichier introuvable ({path})") from error
    except UnicodeDecodeError as error:
        raise ImportRefuse.whole_file("le fichier doit être encodé en UTF-8") from error


def lire_csv(text: str, *, required: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """The data rows with the line number where each starts (the header is line 1)."""
    first_line = text.split("\n", 1)[0]
    # Spreadsheets set to French write semicolons.
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader, [])]
    if not any(header):
        raise ImportRefuse.whole_file("le fichier est vide")
    missing = [name for name in required if name not in header]
    if missing:
        raise ImportRefuse.whole_file(f"colonne(s) manquante(s) : {', '.join(missing)}")
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[tuple[int, str]] = []
    line = reader.line_num + 1
    try:
        for values in reader:
            if any(value.strip() for value in values):
                if len(values) == len(header):
                    rows.append((line, dict(zip(header, values, strict=True))))
                else:
                    found = len(values)
                    errors.append((line, f"{found} colonnes au lieu de {len(header)}"))
            line = reader.line_num + 1
    except csv.Error as error:
        errors.append((line, f"ligne CSV illisible ({error})"))
    if errors:
        raise ImportRefuse.from_lines(errors)
    return rows


def nombre(value: str) -> float | None:
    """A finite decimal number, with a point or a French comma; None otherwise."""
    try:
        number = float(value.strip().replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class SiteRow:
    line: int
    code_insee: str
    nom: str
    adresse: str
    latitude: float
    longitude: float
    telephone: str
    email: str
    horaires: Horaires | None

    @property
    def reference(self) -> str:
        return f"mairie:{self.code_insee}"


@dataclass(frozen=True)
class ImportSitesReport:
    created: int
    updated: int


def parse_sites_csv(
    text: str,
    communes: Mapping[str, tuple[float, float] | None],
    *,
    only: Container[str] | None = None,
) -> list[SiteRow]:
    """Check every line (or those of the INSEE codes in `only`) against `communes` (INSEE
    code -> town-hall latitude and longitude, None when unknown); raise ImportRefuse
    listing every bad line, or return all rows."""
    rows: list[SiteRow] = []
    errors: list[tuple[int, str]] = []
    seen: dict[str, tuple[int, str]] = {}
    for line, raw in lire_csv(text, required=REQUIRED):
        values = {name: raw.get(name, "").strip() for name in REQUIRED + OPTIONAL}
        code, nom = values["code_insee"], values["nom"]
        if only is not None and code not in only:
            continue
        problems: list[str] = []
        if code not in seen:
            seen[code] = (line, nom)
        elif seen[code][1] == nom:
            problems.append(
                f"ligne en double (même code INSEE et même nom que ligne {seen[code][0]})"
            )
        else:  # the reference of a site is its INSEE code
            problems.append(f"un seul site par commune : {code} est déjà ligne {seen[code][0]}")
        row = _site_row(line, values, communes, problems)
        if problems or row is None:
            errors.append((line, " ; ".join(problems)))
        else:
            rows.append(row)
    if errors:
        raise ImportRefuse.from_lines(errors)
    return rows


def _site_row(
    line: int,
    values: Mapping[str, str],
    communes: Mapping[str, tuple[float, float] | None],
    problems: list[str],
) -> SiteRow | None:
    code = values["code_insee"]
    problems.extend(f"{name} vide" for name in ("nom", "adresse") if not values[name])
    for name, length in _LENGTHS.items():
        if len(values[name]) > length:
            problems.append(f"{name} trop long ({length} caractères au plus)")
    if values["email"] and "@" not in values["email"]:
        problems.append(f"courriel « {values['email']} » invalide")
    latitude = _coordonnee(values["latitude"], "latitude", 90, problems)
    longitude = _coordonnee(values["longitude"], "longitude", 180, problems)
    mairie = communes.get(code)
    if code not in communes:
        problems.append(f"commune inconnue (code INSEE « {code} »)")
    elif latitude is not None and longitude is not None and mairie is not None:
        distance = distance_km(latitude, longitude, *mairie)
        if distance > MAX_DISTANCE_KM:
            problems.append(
                f"coordonnées à {distance:.0f} km de la mairie de la commune "
                f"({MAX_DISTANCE_KM:g} km au plus)"
            )
    try:
        horaires = parse_horaires(values["horaires"], fusionner=True)
    except HorairesIllisibles as error:
        problems.append(str(error))
    if problems or latitude is None or longitude is None:
        return None
    return SiteRow(
        line, code, values["nom"], values["adresse"], latitude, longitude,
        values["telephone"], values["email"], horaires,
    )  # fmt: skip


def _coordonnee(value: str, name: str, limit: float, problems: list[str]) -> float | None:
    number = nombre(value)
    if not value:
        problems.append(f"{name} manquante")
    elif number is None:
        problems.append(f"{name} « {value} » n'est pas un nombre")
    elif not -limit <= number <= limit:
        problems.append(f"{name} {value} hors limites (de -{limit:g} à {limit:g})")
    else:
        return number
    return None


async def communes_positions() -> dict[str, tuple[int, tuple[float, float] | None]]:
    """INSEE code -> (commune id, town-hall position or None), for every commune."""
    rows = await Commune.select(Commune.id, Commune.insee, Commune.latitude, Commune.longitude)
    return {
        row["insee"]: (
            row["id"],
            None if row["latitude"] is None else (row["latitude"], row["longitude"]),
        )
        for row in rows
    }


def site_values(row: SiteRow, *, commune_id: int, kind: str) -> dict[str, Any]:
    """The columns of a Site that an import sets (not `actif` nor `accessibilite`)."""
    return {
        "kind": kind,
        "nom": row.nom,
        "adresse": row.adresse,
        "commune": commune_id,
        "latitude": row.latitude,
        "longitude": row.longitude,
        "telephone": row.telephone,
        "email": row.email,
        "horaires": horaires_to_json(row.horaires),
    }


async def import_sites(
    path: Path,
    *,
    territoire_id: int,
    kind: str = SiteKind.permanence.value,
    service_codes: Sequence[str] = (),
) -> ImportSitesReport:
    """Create or update one site per line of `path`, linked to the given services."""
    if kind not in {member.value for member in SiteKind}:
        kinds = ", ".join(member.value for member in SiteKind)
        raise Invalid(f"Type de site inconnu « {kind} » ({kinds}).", fields={"kind": kind})
    if not await Territoire.exists().where(Territoire.id == territoire_id):
        raise NotFound(f"Territoire {territoire_id} introuvable.")
    services = await _services(territoire_id, service_codes)
    communes = await communes_positions()
    rows = parse_sites_csv(
        lire_fichier(path), {code: position for code, (_, position) in communes.items()}
    )
    values = {
        row.reference: site_values(row, commune_id=communes[row.code_insee][0], kind=kind)
        for row in rows
    }
    async with write_transaction():
        created, updated = await upsert_sites(territoire_id, values)
        links = [
            {"site": site, "service": service}
            for site in (created | updated).values()
            for service in services
        ]
        await insert_missing(SiteService, links, keys=("site", "service"))
    return ImportSitesReport(created=len(created), updated=len(updated))


async def _services(territoire_id: int, codes: Sequence[str]) -> list[int]:
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return []
    found = await Service.select(Service.id, Service.code).where(
        (Service.territoire == territoire_id) & Service.code.is_in(wanted)
    )
    by_code = {row["code"]: row["id"] for row in found}
    unknown = [code for code in wanted if code not in by_code]
    if unknown:
        raise Invalid(
            f"Service(s) inconnu(s) dans ce territoire : {', '.join(unknown)}.",
            code="service_inconnu",
            fields={"service": ", ".join(unknown)},
        )
    return [by_code[code] for code in wanted]


async def site_ids(territoire_id: int, references: Iterable[str]) -> dict[str, int]:
    """reference -> site id, for the sites of the territoire that have these references."""
    wanted = set(references)
    rows = await Site.select(Site.id, Site.reference).where(Site.territoire == territoire_id)
    return {row["reference"]: row["id"] for row in rows if row["reference"] in wanted}


async def upsert_sites(
    territoire_id: int, values: Mapping[str, Mapping[str, Any]], *, update: bool = True
) -> tuple[dict[str, int], dict[str, int]]:
    """Insert the sites whose reference is new, update the others (unless `update` is False);
    return (created, existing), each reference -> site id. Runs in the caller's transaction."""
    existing = await site_ids(territoire_id, values)
    if update:
        for reference, site_id in existing.items():
            changes: dict[Any, Any] = dict(values[reference])
            await Site.update(changes).where(Site.id == site_id)
    new = [
        Site(territoire=territoire_id, reference=reference, **row)
        for reference, row in values.items()
        if reference not in existing
    ]
    for batch in batches(new):
        await Site.insert(*batch)
    ids = await site_ids(territoire_id, values)
    return {ref: ids[ref] for ref in values if ref not in existing}, existing


async def insert_missing(
    table: type[Table], rows: Iterable[Mapping[str, Any]], keys: Sequence[str]
) -> int:
    """Insert the rows whose values for `keys` are not in `table` yet; return how many.
    The first key narrows the look-up. Runs in the caller's transaction."""
    wanted: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    for row in rows:
        wanted.setdefault(tuple(row[key] for key in keys), row)
    columns = [table._meta.get_column_by_name(key) for key in keys]
    present: set[tuple[Any, ...]] = set()
    for batch in batches(sorted({key[0] for key in wanted})):
        found = await table.select(*columns).where(columns[0].is_in(list(batch)))
        present.update(tuple(row[key] for key in keys) for row in found)
    new = [table(**row) for key, row in wanted.items() if key not in present]
    for chunk in batches(new):
        await table.insert(*chunk)
    return len(new)


def batches(items: Sequence[T], size: int = BATCH_SIZE) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

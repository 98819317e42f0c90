"""The communes of France: normalised names for autocompletion, and `import-communes`."""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plateforme.db import write_transaction
from sites.services.importer import ImportRefuse, batches, lire_csv, lire_fichier, nombre
from sites.services.proximite import distance_km
from sites.tables import Commune

DEFAULT = Path(__file__).resolve().parent.parent / "data" / "communes-france.csv"

COLONNES = (
    "code_insee",
    "nom",
    "departement",
    "region",
    "codes_postaux",
    "latitude",
    "longitude",
    "population",
)

# A town hall farther than this from the middle of its département is misplaced.
MAX_KM_DEPARTEMENT = 150.0

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})
_SEPARATORS = re.compile(r"[-'’‐‑–—\s]+")
_INSEE = re.compile(r"^[0-9][0-9AB][0-9]{3}$")
_DEPARTEMENT = re.compile(r"^[0-9][0-9AB][0-9]?$")


def normalise(text: str) -> str:
    """Lower case, no accents, hyphens and apostrophes as single spaces: "L'Haÿ-les-Roses" ->
    "l hay les roses"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    without_accents = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SEPARATORS.sub(" ", without_accents.lower()).strip()


@dataclass(frozen=True)
class ImportCommunesReport:
    created: int
    updated: int
    unchanged: int


def parse_communes_csv(text: str) -> list[dict[str, Any]]:
    """The rows as column values of `Commune`; raises ImportRefuse listing every bad line."""
    rows = lire_csv(text, required=COLONNES)
    errors: list[tuple[int, str]] = []
    communes: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, raw in rows:
        problems: list[str] = []
        insee = raw["code_insee"].strip().upper()
        if not _INSEE.match(insee):
            problems.append(f"code INSEE « {insee} » invalide")
        elif insee in seen:
            problems.append(f"code INSEE {insee} en double (déjà ligne {seen[insee]})")
        else:
            seen[insee] = line
        nom = raw["nom"].strip()
        if not nom or len(nom) > 100:
            problems.append("nom vide ou trop long")
        departement = raw["departement"].strip().upper()
        if not _DEPARTEMENT.match(departement):
            problems.append(f"département « {departement} » invalide")
        region = raw["region"].strip()
        if not region.isdigit() or len(region) > 3:
            problems.append(f"région « {region} » invalide")
        codes_postaux = " ".join(raw["codes_postaux"].split())
        if len(codes_postaux) > 200:
            problems.append("codes postaux trop longs")
        latitude = _coordonnee(raw["latitude"], "latitude", 90, problems)
        longitude = _coordonnee(raw["longitude"], "longitude", 180, problems)
        if (latitude is None) != (longitude is None):
            problems.append("latitude et longitude vont ensemble")
        population = _population(raw["population"], problems)
        if problems:
            errors.append((line, " ; ".join(problems)))
            continue
        communes.append(
            {
                "insee": insee,
                "nom": nom,
                "nom_normalise": normalise(nom),
                "departement": departement,
                "region": region,
                "codes_postaux": codes_postaux,
                "latitude": latitude,
                "longitude": longitude,
                "population": population,
            }
        )
    if errors:
        raise ImportRefuse.from_lines(errors)
    return communes


def _coordonnee(value: str, name: str, limit: float, problems: list[str]) -> float | None:
    # A few communes have no town-hall position in the source: empty, or "nan" as
    # written by pandas (Lanester, Solore-en-Forez).
    if value.strip().lower() in {"", "nan"}:
        return None
    number = nombre(value)
    if number is None or not -limit <= number <= limit:
        problems.append(f"{name} « {value} » invalide")
        return None
    return number


def _population(value: str, problems: list[str]) -> int:
    if not value.strip():
        return 0
    if not value.strip().isdigit():
        problems.append(f"population « {value} » invalide")
        return 0
    return int(value)


async def import_communes(path: Path = DEFAULT) -> ImportCommunesReport:
    """Insert the missing communes and update the changed ones, all or nothing."""
    communes = parse_communes_csv(lire_fichier(path))
    fields = [name for name in communes[0] if name != "insee"] if communes else []
    async with write_transaction():
        existing = {
            row["insee"]: row
            for row in await Commune.select(Commune.id, Commune.insee, *_columns(fields))
        }
        missing = [Commune(**values) for values in communes if values["insee"] not in existing]
        for batch in batches(missing):
            await Commune.insert(*batch)
        updated = 0
        for values in communes:
            row = existing.get(values["insee"])
            if row is None:
                continue
            changes: dict[Any, Any] = {
                name: values[name] for name in fields if row[name] != values[name]
            }
            if changes:
                await Commune.update(changes).where(Commune.id == row["id"])
                updated += 1
    return ImportCommunesReport(
        created=len(missing),
        updated=updated,
        unchanged=len(communes) - len(missing) - updated,
    )


def _columns(fields: list[str]) -> list[Any]:
    return [Commune._meta.get_column_by_name(name) for name in fields]


def positions_corrigees(communes: Sequence[Mapping[str, Any]]) -> dict[str, tuple[float, float]]:
    """INSEE code -> town-hall position, for rows of `Commune` (insee, departement,
    codes_postaux, latitude, longitude). The source misplaces a few dozen town halls
    (longitude copied from the latitude, lost minus sign) and lacks a few: those get the
    mean position of the communes that share a postcode with them."""
    known = {
        c["insee"]: (c["latitude"], c["longitude"]) for c in communes if c["latitude"] is not None
    }
    by_departement: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for commune in communes:
        if commune["insee"] in known:
            by_departement[commune["departement"]].append(known[commune["insee"]])
    middles = {
        departement: (
            statistics.median(p[0] for p in points),
            statistics.median(p[1] for p in points),
        )
        for departement, points in by_departement.items()
    }
    result = {
        c["insee"]: known[c["insee"]]
        for c in communes
        if c["insee"] in known
        and distance_km(*known[c["insee"]], *middles[c["departement"]]) <= MAX_KM_DEPARTEMENT
    }
    by_postcode: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for commune in communes:
        for postcode in commune["codes_postaux"].split():
            if commune["insee"] in result:
                by_postcode[postcode].append(result[commune["insee"]])
    for commune in communes:
        near = [p for postcode in commune["codes_postaux"].split() for p in by_postcode[postcode]]
        if commune["insee"] not in result and near:
            result[commune["insee"]] = (
                statistics.fmean(p[0] for p in near),
                statistics.fmean(p[1] for p in near),
            )
    return result

"""French public holidays of a département, with their French names (from `holidays`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

import holidays

# Départements whose holidays differ from metropolitan France, as `holidays`
# subdivisions: Alsace-Moselle (Good Friday, 26 December) and the overseas ones
# (abolition of slavery and local days). Everything else is metropolitan.
_SUBDIVISIONS = {
    "57": "57",
    "67": "6AE",
    "68": "6AE",
    "971": "971",
    "972": "972",
    "973": "973",
    "974": "974",
    "975": "PM",
    "976": "976",
    "977": "BL",
    "978": "MF",
    "986": "WF",
    "987": "PF",
    "988": "NC",
}


@lru_cache(maxsize=2048)
def _annee(departement: str, annee: int) -> tuple[tuple[date, str], ...]:
    """Cached as an immutable tuple, so that no caller can change another's answer."""
    calendar = holidays.country_holidays(
        "FR", subdiv=_SUBDIVISIONS.get(departement), years=annee, language="fr"
    )
    return tuple(sorted(calendar.items()))


def jours_feries(departement: str, annees: Iterable[int]) -> dict[date, str]:
    """The public holidays of these years in the département (INSEE code: "31", "2A", "974")."""
    departement = departement.strip().upper()
    result: dict[date, str] = {}
    for annee in sorted(set(annees)):
        result.update(_annee(departement, annee))
    return result

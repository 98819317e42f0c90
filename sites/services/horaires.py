"""Weekly opening hours: parsing and validation of the `horaires` JSON.

The format is the one of the Annuaire de l'administration, local times:
`{"lundi": [["08:30", "12:00"], ["13:30", "17:00"]], ...}`; a missing day is
closed, and a missing or empty value means the hours are not known.
"""

from __future__ import annotations

import json
import re
from datetime import time
from typing import Any

JOURS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

Horaires = dict[str, list[tuple[time, time]]]

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class HorairesIllisibles(ValueError):
    """The hours cannot be read; the message says why, in French."""


def _parse_time(value: Any, jour: str) -> time:
    if not isinstance(value, str) or not _HHMM.match(value):
        raise HorairesIllisibles(f"{jour} : heure « {value} » invalide (format HH:MM attendu)")
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def parse_horaires(raw: str | dict[str, Any] | None) -> Horaires | None:
    """Return the hours as times, sorted per day; None when they are unknown.

    Raises HorairesIllisibles for anything else than the documented format:
    unknown day, bad time, an interval that ends before it starts, overlaps.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as error:
            raise HorairesIllisibles("horaires : JSON illisible") from error
    else:
        data = raw
    if not isinstance(data, dict):
        raise HorairesIllisibles("horaires : un objet {jour: [[début, fin], ...]} est attendu")
    result: Horaires = {}
    for jour, intervals in data.items():
        if jour not in JOURS:
            raise HorairesIllisibles(f"jour inconnu « {jour} »")
        if not isinstance(intervals, list):
            raise HorairesIllisibles(f"{jour} : une liste de plages est attendue")
        parsed: list[tuple[time, time]] = []
        for interval in intervals:
            if not isinstance(interval, list | tuple) or len(interval) != 2:
                raise HorairesIllisibles(f"{jour} : chaque plage est [début, fin]")
            start, end = _parse_time(interval[0], jour), _parse_time(interval[1], jour)
            if end <= start:
                raise HorairesIllisibles(
                    f"{jour} : la plage {interval[0]}-{interval[1]} finit avant de commencer"
                )
            parsed.append((start, end))
        parsed.sort()
        for (_, previous_end), (next_start, _) in zip(parsed, parsed[1:], strict=False):
            if next_start < previous_end:
                raise HorairesIllisibles(f"{jour} : des plages se chevauchent")
        if parsed:
            result[jour] = parsed
    return result


def horaires_to_json(horaires: Horaires | None) -> dict[str, list[list[str]]] | None:
    """The storable form, in the day order of the week."""
    if horaires is None:
        return None
    return {
        jour: [[start.strftime("%H:%M"), end.strftime("%H:%M")] for start, end in horaires[jour]]
        for jour in JOURS
        if jour in horaires
    }

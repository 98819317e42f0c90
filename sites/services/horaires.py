"""Weekly opening hours: the `horaires` JSON, the coming days of a site, their UTC intervals.

The format is the one of the Annuaire de l'administration, local times:
`{"lundi": [["08:30", "12:00"], ["13:30", "17:00"]], ...}`; a missing day is
closed, and a missing or empty value means the hours are not known.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

JOURS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

Horaires = dict[str, list[tuple[time, time]]]

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class HorairesIllisibles(ValueError):
    """The hours cannot be read; the message says why, in French."""


def _parse_time(value: Any, jour: str) -> time:
    # fullmatch: `$` alone would let "08:30\n" through.
    if not isinstance(value, str) or not _HHMM.fullmatch(value):
        raise HorairesIllisibles(f"{jour} : heure « {value} » invalide (format HH:MM attendu)")
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _union(intervals: list[tuple[time, time]]) -> list[tuple[time, time]]:
    """Sorted intervals merged where they overlap (touching ones stay apart)."""
    merged: list[tuple[time, time]] = []
    for start, end in intervals:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def parse_horaires(raw: str | dict[str, Any] | None, *, fusionner: bool = False) -> Horaires | None:
    """Return the hours as times, sorted per day; None when they are unknown.

    Raises HorairesIllisibles for anything else than the documented format:
    unknown day, bad time, an interval that ends before it starts, overlaps.
    With `fusionner`, overlapping or repeated intervals are merged instead of
    refused: the Annuaire de l'administration has a few town halls whose two
    schedules were concatenated, and the union is what the public can rely on.
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
        if fusionner:
            parsed = _union(parsed)
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


@dataclass(frozen=True, slots=True)
class JourOuverture:
    """One day of a site: open with its intervals, closed (and why), or hours not known.

    `ouvert` is True (open), False (closed) or None (hours not known: never
    shown as closed). `raison` says why a day differs from the usual week
    ("Jour férié : Noël", "Fermé : travaux", "Horaires non communiqués"); it is
    None on open days and on the days the site is closed every week.
    """

    date: dt.date
    jour: str
    plages: tuple[tuple[time, time], ...]
    ouvert: bool | None
    raison: str | None


HORAIRES_INCONNUS = "Horaires non communiqués"


def semaine(
    horaires: Horaires | None,
    fermetures: Iterable[tuple[dt.date, dt.date, str]],
    jours_feries: Mapping[dt.date, str],
    debut: dt.date,
    jours: int = 7,
) -> list[JourOuverture]:
    """The opening of `jours` days from `debut`, with closures and public holidays applied.

    `fermetures` are (first day, last day included, motif). A public holiday
    wins over a closure (its name is the more precise reason), and both win
    over unknown hours. Hours that are None or empty ({}) mean "not known".
    """
    fermetures = tuple(fermetures)
    result: list[JourOuverture] = []
    for offset in range(jours):
        day = debut + dt.timedelta(days=offset)
        jour = JOURS[day.weekday()]
        ferie = jours_feries.get(day)
        motif = next((m for first, last, m in fermetures if first <= day <= last), None)
        if ferie is not None:
            result.append(JourOuverture(day, jour, (), False, f"Jour férié : {ferie}"))
        elif motif is not None:
            raison = f"Fermé : {motif}" if motif.strip() else "Fermé"
            result.append(JourOuverture(day, jour, (), False, raison))
        elif not horaires:
            # None, or a week without a single opening: not known rather than closed.
            result.append(JourOuverture(day, jour, (), None, HORAIRES_INCONNUS))
        elif plages := horaires.get(jour):
            result.append(JourOuverture(day, jour, tuple(plages), True, None))
        else:
            result.append(JourOuverture(day, jour, (), False, None))
    return result


def intervalles_utc(
    jour: dt.date, horaires: Horaires | None, fuseau: str
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The intervals of that day's weekday as aware UTC datetimes, in the IANA zone `fuseau`.

    Local times are attached with zoneinfo's default fold=0, so a 09:00 opening
    stays 09:00 local on the days daylight saving changes. A local time that
    does not exist (02:30 on 2026-03-29 in Europe/Paris) takes the offset in
    force before the change: it lands at 01:30Z, i.e. 03:30 local. A local
    time that happens twice (02:30 on 2026-10-25) is the first one (00:30Z).
    An interval that this leaves empty or reversed (02:30-03:00 on the spring
    day: 01:30Z-01:00Z) is dropped.
    """
    if horaires is None:
        return []
    zone = ZoneInfo(fuseau)
    result: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in horaires.get(JOURS[jour.weekday()], ()):
        start_utc = dt.datetime.combine(jour, start, tzinfo=zone).astimezone(dt.UTC)
        end_utc = dt.datetime.combine(jour, end, tzinfo=zone).astimezone(dt.UTC)
        if end_utc > start_utc:
            result.append((start_utc, end_utc))
    return result

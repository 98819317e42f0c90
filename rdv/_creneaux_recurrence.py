"""RRULE expansion in local wall-clock time: plage and absence occurrences as UTC intervals."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from rdv._creneaux_donnees import Absence, PlageOuverture
from rdv._creneaux_regles import Regle, lire, recurrence

# An occurrence of a plage lasts less than a day; the margin also covers UTC offsets.
_MARGE = dt.timedelta(days=2)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECONDE = dt.timedelta(microseconds=1)


def _depart(lue: Regle, debut: dt.datetime, bas: dt.datetime) -> dt.datetime:
    """A dtstart just before `bas` that gives the same occurrences after it as `debut`.

    dateutil walks every occurrence from dtstart on: for a weekly plage
    started years ago that is hundreds of steps per search. DAILY and WEEKLY
    rules without COUNT repeat every INTERVAL days or weeks, so dtstart moves
    forward by whole periods; a WEEKLY rule with BYDAY then goes back to the
    start of its week, so that plages with the same rule and hours share one
    expansion whatever their premier_jour.
    """
    if lue.periode is None:
        return debut
    periodes = (bas - debut) // lue.periode - 1
    if periodes <= 0:
        return debut
    depart = debut + periodes * lue.periode
    if lue.semaine:
        # At least one period after debut, so the week start is still after it.
        depart -= dt.timedelta(days=(depart.weekday() - lue.wkst) % 7)
    return depart


@lru_cache(maxsize=4096)
def _instants(
    regle: str | None,
    depart: dt.datetime,
    fuseau: str,
    bas: dt.datetime,
    haut: dt.datetime,
    duree: dt.timedelta | dt.time,
) -> tuple[tuple[int, int, dt.date], ...]:
    """(start, end, local date) of each occurrence whose local start is in [bas, haut].

    Instants are UTC microseconds. `duree` is the local duration (absences)
    or the local end time on the same day (plages).
    """
    zone = ZoneInfo(fuseau)
    if regle is None:
        debuts = [depart] if bas <= depart <= haut else []
    else:
        debuts = recurrence(lire(regle, fuseau).texte, depart, regle).between(bas, haut, inc=True)
    result: list[tuple[int, int, dt.date]] = []
    for local in debuts:
        jour = local.date()
        if isinstance(duree, dt.time):
            fin = dt.datetime.combine(jour, duree)
        else:
            fin = local + duree
        start, end = _us(local, zone), _us(fin, zone)
        if start < end:
            result.append((start, end, jour))
    return tuple(result)


def _us(local: dt.datetime, zone: ZoneInfo) -> int:
    # fold=0, as in sites.services.horaires.intervalles_utc: a nonexistent
    # local time takes the offset before the change, an ambiguous one is the first.
    return (local.replace(tzinfo=zone) - EPOCH) // MICROSECONDE


def en_us(instant: dt.datetime) -> int:
    """An aware instant as UTC microseconds since the epoch, the engine's unit."""
    return (instant - EPOCH) // MICROSECONDE


def _fenetre(
    apres: int, avant: int, zone: ZoneInfo, recul: dt.timedelta
) -> tuple[dt.datetime, dt.datetime]:
    """Naive local bounds on whole days, so that searches a few minutes apart share a cache."""
    bas = (EPOCH + apres * MICROSECONDE).astimezone(zone).date() - _MARGE - recul
    haut = (EPOCH + avant * MICROSECONDE).astimezone(zone).date() + _MARGE
    return dt.datetime.combine(bas, dt.time()), dt.datetime.combine(haut, dt.time())


def fenetre_plages(fuseau: str, apres: int, avant: int) -> tuple[dt.datetime, dt.datetime]:
    """The expansion window of every plage for [apres, avant): computed once per search."""
    return _fenetre(apres, avant, ZoneInfo(fuseau), dt.timedelta(0))


def occurrences_plage(
    plage: PlageOuverture,
    fuseau: str,
    apres: int,
    avant: int,
    fenetre: tuple[dt.datetime, dt.datetime] | None = None,
) -> list[tuple[int, int, dt.date]]:
    """(UTC start, UTC end, local date) of the occurrences that overlap [apres, avant).

    `fenetre` is `fenetre_plages(fuseau, apres, avant)`, given by a caller that
    expands many plages for the same window.
    """
    bas, haut = fenetre or fenetre_plages(fuseau, apres, avant)
    fin = plage.fin
    return [
        occurrence
        for occurrence in _occurrences_plage(
            plage.rrule, plage.premier_jour, plage.heure_debut, plage.heure_fin, fuseau, bas, haut
        )
        if occurrence[0] < avant and occurrence[1] > apres and (fin is None or occurrence[2] <= fin)
    ]


@lru_cache(maxsize=8192)
def _occurrences_plage(
    regle: str | None,
    premier_jour: dt.date,
    heure_debut: dt.time,
    heure_fin: dt.time,
    fuseau: str,
    bas: dt.datetime,
    haut: dt.datetime,
) -> tuple[tuple[int, int, dt.date], ...]:
    """Every occurrence of a plage whose local start is in [bas, haut], per plage and
    window: the windows are whole days, so that the searches of a day share it. The
    tuples are those of `_instants`, shared by the plages with the same rule and hours."""
    debut = dt.datetime.combine(premier_jour, heure_debut)
    depart = debut if regle is None else _depart(lire(regle, fuseau), debut, bas)
    return _instants(regle, depart, fuseau, bas, haut, heure_fin)


def occurrences_absence(
    absence: Absence, fuseau: str, apres: int, avant: int
) -> list[tuple[int, int]]:
    """UTC intervals of the absence that overlap [apres, avant), in microseconds."""
    if absence.rrule is None:
        start, end = en_us(absence.debut), en_us(absence.fin)
        return [(start, end)] if start < avant and end > apres else []
    if absence.debut.utcoffset() is None or absence.fin.utcoffset() is None:
        raise ValueError(f"absence de l'agent {absence.agent_id} : date et heure sans fuseau")
    zone = ZoneInfo(fuseau)
    debut = absence.debut.astimezone(zone).replace(tzinfo=None)
    duree = absence.fin.astimezone(zone).replace(tzinfo=None) - debut
    if duree <= dt.timedelta(0):
        return []
    bas, haut = _fenetre(apres, avant, zone, duree)
    depart = _depart(lire(absence.rrule, fuseau), debut, bas)
    return [
        (start, end)
        for start, end, _ in _instants(absence.rrule, depart, fuseau, bas, haut, duree)
        if start < avant and end > apres
    ]

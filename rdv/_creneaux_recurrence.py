"""RRULE expansion in local wall-clock time: plage and absence occurrences as UTC intervals."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from rdv._creneaux_donnees import Absence, PlageOuverture

UTC = dt.UTC

# BYHOUR, BYMINUTE, BYSECOND and the sub-daily frequencies are refused: the
# time of day of a plage is heure_debut, and of an absence its debut.
_PARTIES = frozenset(
    {
        "FREQ",
        "UNTIL",
        "COUNT",
        "INTERVAL",
        "BYDAY",
        "BYMONTHDAY",
        "BYYEARDAY",
        "BYWEEKNO",
        "BYMONTH",
        "BYSETPOS",
        "WKST",
    }
)
_FREQUENCES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_JOUR = re.compile(r"\d{8}")
_INSTANT_LOCAL = re.compile(r"\d{8}T\d{6}")
_INSTANT_UTC = re.compile(r"\d{8}T\d{6}Z")

# An occurrence of a plage lasts less than a day; the margin also covers UTC offsets.
_MARGE = dt.timedelta(days=2)
_JOURS_RFC = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECONDE = dt.timedelta(microseconds=1)


class RegleInvalide(ValueError):
    """An RRULE that cannot be read or is not accepted here; the message says why, in French."""


@dataclass(frozen=True, slots=True)
class _Regle:
    """A rule checked and normalised once per (rule, zone), whatever its dtstart."""

    texte: str
    # The period by which dtstart can move forward without changing the
    # occurrences after it; None when it cannot (COUNT, MONTHLY, YEARLY).
    periode: dt.timedelta | None
    # WEEKLY with BYDAY: only the week of dtstart matters, not its weekday.
    semaine: bool
    wkst: int


def _until_local(valeur: str, zone: ZoneInfo, regle: str) -> str:
    """UNTIL as a naive local instant, the form dateutil wants with a naive dtstart.

    RFC 5545 wants UNTIL in UTC when DTSTART has a time zone, which is our
    case: such a value is converted. A date alone means "up to that day
    included" (dateutil would read it as midnight and drop that day).
    """
    try:
        if _JOUR.fullmatch(valeur):
            dt.datetime.strptime(valeur, "%Y%m%d")
            return valeur + "T235959"
        if _INSTANT_LOCAL.fullmatch(valeur):
            dt.datetime.strptime(valeur, "%Y%m%dT%H%M%S")
            return valeur
        if _INSTANT_UTC.fullmatch(valeur):
            instant = dt.datetime.strptime(valeur, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            return instant.astimezone(zone).strftime("%Y%m%dT%H%M%S")
    except ValueError:
        pass
    raise RegleInvalide(
        f"règle de récurrence « {regle} » : UNTIL « {valeur} » illisible "
        "(AAAAMMJJ, AAAAMMJJTHHMMSS ou AAAAMMJJTHHMMSSZ attendu)"
    )


def _parties(regle: str, zone: ZoneInfo) -> dict[str, str]:
    parties: dict[str, str] = {}
    for morceau in regle.split(";"):
        nom, egal, valeur = (texte.strip().upper() for texte in morceau.partition("="))
        if not egal or not nom or not valeur:
            raise RegleInvalide(
                f"règle de récurrence « {regle} » illisible : « {morceau} » n'est pas NOM=valeur"
            )
        if nom not in _PARTIES:
            raise RegleInvalide(f"règle de récurrence « {regle} » : « {nom} » n'est pas accepté")
        if nom in parties:
            raise RegleInvalide(f"règle de récurrence « {regle} » : « {nom} » est répété")
        parties[nom] = valeur
    if parties.get("FREQ") not in _FREQUENCES:
        raise RegleInvalide(
            f"règle de récurrence « {regle} » : FREQ doit être DAILY, WEEKLY, MONTHLY ou YEARLY"
        )
    if "COUNT" in parties and "UNTIL" in parties:
        raise RegleInvalide(
            f"règle de récurrence « {regle} » : COUNT et UNTIL ne vont pas ensemble"
        )
    for nom in ("COUNT", "INTERVAL"):
        # dateutil loops forever on INTERVAL=0.
        if nom in parties and not (parties[nom].isdigit() and int(parties[nom]) >= 1):
            raise RegleInvalide(
                f"règle de récurrence « {regle} » : {nom} doit être un entier supérieur à 0"
            )
    if "UNTIL" in parties:
        parties["UNTIL"] = _until_local(parties["UNTIL"], zone, regle)
    # Explicit, so that dateutil does not read calendar.firstweekday().
    parties.setdefault("WKST", "MO")
    return parties


@lru_cache(maxsize=1024)
def _lire(regle: str, fuseau: str) -> _Regle:
    """The rule checked once per zone (UNTIL depends on it); RegleInvalide if it cannot be read."""
    parties = _parties(regle, ZoneInfo(fuseau))
    texte = ";".join(f"{nom}={valeur}" for nom, valeur in parties.items())
    # Built once here so that what dateutil refuses (BYDAY=XX...) is refused now.
    _rrule(texte, dt.datetime(2000, 1, 3), regle)
    periode = None
    if "COUNT" not in parties and parties["FREQ"] in ("DAILY", "WEEKLY"):
        jours = int(parties.get("INTERVAL", "1")) * (7 if parties["FREQ"] == "WEEKLY" else 1)
        periode = dt.timedelta(days=jours)
    semaine = parties["FREQ"] == "WEEKLY" and "BYDAY" in parties
    return _Regle(texte, periode, semaine, _JOURS_RFC.index(parties["WKST"]))


def _rrule(texte: str, depart: dt.datetime, regle: str) -> rrule:
    try:
        lue = rrulestr(texte, dtstart=depart)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as error:
        raise RegleInvalide(f"règle de récurrence « {regle} » illisible : {error}") from error
    if not isinstance(lue, rrule):  # pragma: no cover - one RRULE line gives one rrule
        raise RegleInvalide(f"règle de récurrence « {regle} » illisible")
    return lue


def verifier_regle(regle: str, fuseau: str = "Europe/Paris") -> None:
    """Raise RegleInvalide when `regle` is not an RRULE value the engine accepts."""
    _lire(regle, fuseau)


def _depart(lue: _Regle, debut: dt.datetime, bas: dt.datetime) -> dt.datetime:
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
        debuts = _rrule(_lire(regle, fuseau).texte, depart, regle).between(bas, haut, inc=True)
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


def occurrences_plage(
    plage: PlageOuverture, fuseau: str, apres: int, avant: int
) -> list[tuple[int, int, dt.date]]:
    """(UTC start, UTC end, local date) of the occurrences that overlap [apres, avant)."""
    zone = ZoneInfo(fuseau)
    debut = dt.datetime.combine(plage.premier_jour, plage.heure_debut)
    bas, haut = _fenetre(apres, avant, zone, dt.timedelta(0))
    depart = debut if plage.rrule is None else _depart(_lire(plage.rrule, fuseau), debut, bas)
    fin = plage.fin
    return [
        occurrence
        for occurrence in _instants(plage.rrule, depart, fuseau, bas, haut, plage.heure_fin)
        if occurrence[0] < avant and occurrence[1] > apres and (fin is None or occurrence[2] <= fin)
    ]


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
    depart = _depart(_lire(absence.rrule, fuseau), debut, bas)
    return [
        (start, end)
        for start, end, _ in _instants(absence.rrule, depart, fuseau, bas, haut, duree)
        if start < avant and end > apres
    ]

"""RRULE values of plages and absences: checked, normalised for dateutil, read once per zone."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

# The time of day of a plage is heure_debut, of an absence its debut: BYHOUR,
# BYMINUTE, BYSECOND and the sub-daily frequencies are refused. BYYEARDAY
# and BYWEEKNO are refused too: nothing needs them, and with them a rule
# that never happens is hard to tell from one that does (see _jamais).
_PARTIES = frozenset(
    {"FREQ", "UNTIL", "COUNT", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"}
)
_FREQUENCES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
JOURS_RFC = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_JOUR_RFC = re.compile(r"([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_ENTIER = re.compile(r"[+-]?[0-9]{1,4}")
_LONGUEUR_MOIS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_DATE = re.compile(r"[0-9]{8}")
_INSTANT_LOCAL = re.compile(r"[0-9]{8}T[0-9]{6}")
_INSTANT_UTC = re.compile(r"[0-9]{8}T[0-9]{6}Z")


class RegleInvalide(ValueError):
    """An RRULE that cannot be read or is not accepted here; the message says why, in French."""


@dataclass(frozen=True, slots=True)
class Regle:
    """A rule checked and normalised once per (rule, zone), whatever its dtstart."""

    texte: str
    # The period by which dtstart can move forward without changing the
    # occurrences after it; None when it cannot (COUNT, MONTHLY, YEARLY).
    periode: dt.timedelta | None
    # WEEKLY with BYDAY: only the week of dtstart matters, not its weekday.
    semaine: bool
    wkst: int


def _refus(regle: str, pourquoi: str) -> RegleInvalide:
    return RegleInvalide(f"règle de récurrence « {regle} » : {pourquoi}")


def _until_local(valeur: str, zone: ZoneInfo, regle: str) -> str:
    """UNTIL as a naive local instant, the form dateutil wants with a naive dtstart.

    RFC 5545 wants UNTIL in UTC when DTSTART has a time zone, which is our
    case: such a value is converted. A date alone means "up to that day
    included" (dateutil would read it as midnight and drop that day).
    """
    try:
        if _DATE.fullmatch(valeur):
            dt.datetime.strptime(valeur, "%Y%m%d")
            return valeur + "T235959"
        if _INSTANT_LOCAL.fullmatch(valeur):
            dt.datetime.strptime(valeur, "%Y%m%dT%H%M%S")
            return valeur
        if _INSTANT_UTC.fullmatch(valeur):
            instant = dt.datetime.strptime(valeur, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
            return instant.astimezone(zone).strftime("%Y%m%dT%H%M%S")
    except ValueError:
        pass
    raise _refus(
        regle,
        f"UNTIL « {valeur} » illisible (AAAAMMJJ, AAAAMMJJTHHMMSS ou AAAAMMJJTHHMMSSZ attendu)",
    )


def _entiers(parties: dict[str, str], nom: str, plus_grand: int, regle: str) -> list[int]:
    """The values of a list part, each non-zero and within ±plus_grand."""
    if nom not in parties:
        return []
    valeurs = parties[nom].split(",")
    if not all(_ENTIER.fullmatch(v) and 1 <= abs(int(v)) <= plus_grand for v in valeurs):
        raise _refus(regle, f"{nom} « {parties[nom]} » : des entiers de 1 à {plus_grand} attendus")
    return [int(v) for v in valeurs]


def _jamais(parties: dict[str, str], regle: str) -> None:
    """Refuse the rules that never happen: dateutil would look for them up to year 9999.

    That takes seconds for a DAILY rule (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30),
    and every search would pay it. What is left after these checks happens
    at least once within a few years of any start.
    """
    frequence = parties["FREQ"]
    mois = _entiers(parties, "BYMONTH", 12, regle)
    if any(m < 0 for m in mois):
        raise _refus(regle, "BYMONTH : des mois de 1 à 12 attendus")
    for jour in _entiers(parties, "BYMONTHDAY", 31, regle):
        if not any(abs(jour) <= _LONGUEUR_MOIS[m - 1] for m in mois or range(1, 13)):
            raise _refus(regle, f"BYMONTHDAY={jour} n'existe dans aucun des mois demandés")
    jours = (
        [_JOUR_RFC.fullmatch(j) for j in parties["BYDAY"].split(",")] if "BYDAY" in parties else []
    )
    if not all(jours):
        raise _refus(regle, f"BYDAY « {parties['BYDAY']} » illisible (MO, TU... ou 1MO, -1FR)")
    rangs = [int(j.group(1)) for j in jours if j is not None and j.group(1)]
    if rangs:
        limite = 53 if frequence == "YEARLY" and "BYMONTH" not in parties else 5
        if frequence not in ("MONTHLY", "YEARLY"):
            raise _refus(regle, "un rang dans BYDAY (1MO, -1FR) demande FREQ=MONTHLY ou YEARLY")
        if "BYMONTHDAY" in parties or any(not 1 <= abs(r) <= limite for r in rangs):
            raise _refus(regle, f"rang de BYDAY hors de 1 à {limite}, ou avec BYMONTHDAY")
    intervalle = int(parties.get("INTERVAL", "1"))
    if frequence == "DAILY" and jours and intervalle % 7 == 0:
        raise _refus(regle, "tous les 7n jours tombent le même jour : BYDAY demande FREQ=WEEKLY")
    if "BYSETPOS" in parties:
        if frequence not in ("WEEKLY", "MONTHLY") or not jours or rangs or "BYMONTHDAY" in parties:
            raise _refus(regle, "BYSETPOS ne va qu'avec FREQ=WEEKLY ou MONTHLY et BYDAY sans rang")
        # A month holds each weekday at least four times.
        taille = len(jours) * (1 if frequence == "WEEKLY" else 4)
        if any(abs(p) > taille for p in _entiers(parties, "BYSETPOS", 366, regle)):
            raise _refus(regle, f"BYSETPOS au-delà des {taille} jours de la période")


def _parties(regle: str, zone: ZoneInfo) -> dict[str, str]:
    parties: dict[str, str] = {}
    for morceau in regle.split(";"):
        nom, egal, valeur = (texte.strip().upper() for texte in morceau.partition("="))
        if not egal or not nom or not valeur:
            raise _refus(regle, f"« {morceau} » n'est pas NOM=valeur")
        if nom not in _PARTIES:
            raise _refus(regle, f"« {nom} » n'est pas accepté")
        if nom in parties:
            raise _refus(regle, f"« {nom} » est répété")
        parties[nom] = valeur
    if parties.get("FREQ") not in _FREQUENCES:
        raise _refus(regle, "FREQ doit être DAILY, WEEKLY, MONTHLY ou YEARLY")
    if "COUNT" in parties and "UNTIL" in parties:
        raise _refus(regle, "COUNT et UNTIL ne vont pas ensemble")
    for nom in ("COUNT", "INTERVAL"):
        # dateutil loops forever on INTERVAL=0.
        if nom in parties and not (_ENTIER.fullmatch(parties[nom]) and int(parties[nom]) >= 1):
            raise _refus(regle, f"{nom} doit être un entier de 1 à 9999")
    if parties.get("WKST", "MO") not in JOURS_RFC:
        raise _refus(regle, f"WKST « {parties['WKST']} » illisible (MO, TU...)")
    _jamais(parties, regle)
    if "UNTIL" in parties:
        parties["UNTIL"] = _until_local(parties["UNTIL"], zone, regle)
    # Explicit, so that dateutil does not read calendar.firstweekday().
    parties.setdefault("WKST", "MO")
    return parties


def recurrence(texte: str, depart: dt.datetime, regle: str) -> rrule:
    """The dateutil rule of a normalised `texte` from the naive local `depart`."""
    try:
        lue = rrulestr(texte, dtstart=depart)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as error:
        raise _refus(regle, f"illisible ({error})") from error
    if not isinstance(lue, rrule):  # pragma: no cover - one RRULE line gives one rrule
        raise _refus(regle, "illisible")
    return lue


@lru_cache(maxsize=1024)
def lire(regle: str, fuseau: str) -> Regle:
    """The rule checked once per zone (UNTIL depends on it); RegleInvalide if refused."""
    parties = _parties(regle, ZoneInfo(fuseau))
    texte = ";".join(f"{nom}={valeur}" for nom, valeur in parties.items())
    # Built once here so that what dateutil refuses is refused now too.
    recurrence(texte, dt.datetime(2000, 1, 3), regle)
    periode = None
    if "COUNT" not in parties and parties["FREQ"] in ("DAILY", "WEEKLY"):
        jours = int(parties.get("INTERVAL", "1")) * (7 if parties["FREQ"] == "WEEKLY" else 1)
        periode = dt.timedelta(days=jours)
    semaine = parties["FREQ"] == "WEEKLY" and "BYDAY" in parties
    return Regle(texte, periode, semaine, JOURS_RFC.index(parties["WKST"]))


def verifier_regle(regle: str, fuseau: str = "Europe/Paris") -> None:
    """Raise RegleInvalide when `regle` is not an RRULE value the engine accepts.

    For the services that save plages and absences: the engine raises the
    same error at search time, for every search, until the rule is fixed.
    """
    lire(regle, fuseau)

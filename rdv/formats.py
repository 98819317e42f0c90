"""Dates and times as French people read them, in the territoire's time zone."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

__all__ = ["JOURS", "MOIS", "date_heure", "date_longue", "heure"]

JOURS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MOIS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def _local(valeur: datetime, fuseau: str | None) -> datetime:
    if fuseau is None:
        return valeur
    if valeur.utcoffset() is None:
        raise ValueError("une date sans fuseau ne se convertit pas")
    return valeur.astimezone(ZoneInfo(fuseau))


def date_longue(valeur: date | datetime, fuseau: str | None = None, *, annee: bool = True) -> str:
    """ "lundi 7 décembre 2026", "mardi 1er décembre" without the year."""
    jour = _local(valeur, fuseau).date() if isinstance(valeur, datetime) else valeur
    quantieme = "1er" if jour.day == 1 else str(jour.day)
    texte = f"{JOURS[jour.weekday()]} {quantieme} {MOIS[jour.month - 1]}"
    return f"{texte} {jour.year}" if annee else texte


def heure(valeur: datetime | time, fuseau: str | None = None) -> str:
    """ "09:30", the wall-clock time of the zone."""
    moment = _local(valeur, fuseau) if isinstance(valeur, datetime) else valeur
    return f"{moment.hour:02d}:{moment.minute:02d}"


def date_heure(valeur: datetime, fuseau: str | None = None, *, annee: bool = True) -> str:
    """ "lundi 7 décembre 2026 à 09:30"."""
    return f"{date_longue(valeur, fuseau, annee=annee)} à {heure(valeur, fuseau)}"

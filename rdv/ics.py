"""iCalendar (RFC 5545/5546) invitations, cancellations and agents' feeds for rdvs."""

from __future__ import annotations

import functools
import importlib.resources
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from icalendar import (
    Alarm,
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vDuration,
    vRecur,
)

__all__ = ["RdvIcs", "annulation", "flux_agent", "invitation", "vtimezone"]

PRODID = "-//RDV et file d'attente//FR"
RAPPEL_PAR_DEFAUT = timedelta(hours=1)
# "excuse" is a cancellation by the usager, "annule" one by the service.
STATUTS_ANNULES = frozenset({"annule", "excuse"})
_RAFRAICHISSEMENT = timedelta(minutes=15)


@dataclass(frozen=True, slots=True, kw_only=True)
class RdvIcs:
    """What a calendar needs to know about one rdv; datetimes are aware."""

    uid: str
    sequence: int
    debut: datetime
    fin: datetime
    fuseau: str
    titre: str
    lieu: str
    description: str
    organisateur_nom: str
    organisateur_email: str | None
    participant_nom: str | None
    participant_email: str | None
    statut: str
    cree_le: datetime
    modifie_le: datetime

    def __post_init__(self) -> None:
        for nom in ("debut", "fin", "cree_le", "modifie_le"):
            if getattr(self, nom).utcoffset() is None:
                raise ValueError(f"{nom} doit porter un fuseau horaire")
        if self.fin <= self.debut:
            raise ValueError("fin doit être après debut")
        if self.sequence < 0:
            raise ValueError("sequence doit être positive ou nulle")
        if not self.uid:
            raise ValueError("uid est obligatoire")


def invitation(rdv: RdvIcs, *, rappel: timedelta | None = RAPPEL_PAR_DEFAUT) -> bytes:
    """METHOD:REQUEST for the usager's calendar, with a reminder `rappel` before the start."""
    evenement = _evenement(rdv, statut="CONFIRMED")
    _ajouter_personnes(evenement, rdv)
    if rappel is not None:
        evenement.add_component(_rappel(rdv, rappel))
    return _octets(_calendrier("REQUEST", [evenement]))


def annulation(rdv: RdvIcs) -> bytes:
    """METHOD:CANCEL of an invitation; the caller bumps `sequence` beforehand."""
    evenement = _evenement(rdv, statut="CANCELLED")
    _ajouter_personnes(evenement, rdv)
    return _octets(_calendrier("CANCEL", [evenement]))


def flux_agent(rdvs: Iterable[RdvIcs], *, nom_calendrier: str, fuseau: str) -> bytes:
    """METHOD:PUBLISH feed an agent subscribes to; cancelled rdvs stay, marked cancelled.

    The agent's own private feed: the usager's name goes into the summary, but
    no e-mail address (no ORGANIZER/ATTENDEE, which would also make some
    clients treat the events as invitations to answer).
    """
    evenements = []
    for rdv in rdvs:
        annule = rdv.statut in STATUTS_ANNULES
        titre = f"{rdv.titre} ({rdv.participant_nom})" if rdv.participant_nom else rdv.titre
        if annule:
            # Google Calendar and Outlook show subscribed cancelled events anyway.
            titre = f"Annulé : {titre}"
        evenement = _evenement(rdv, statut="CANCELLED" if annule else "CONFIRMED", titre=titre)
        if annule:
            evenement.add("transp", "TRANSPARENT")
        evenements.append(evenement)
    calendrier = _calendrier("PUBLISH", evenements)
    calendrier.add("x-wr-calname", nom_calendrier)
    calendrier.add("x-wr-timezone", _zone(fuseau).key)
    calendrier.add("refresh-interval", _RAFRAICHISSEMENT, parameters={"VALUE": "DURATION"})
    calendrier.add("x-published-ttl", vDuration(_RAFRAICHISSEMENT))
    return _octets(calendrier)


def _octets(calendrier: Calendar) -> bytes:
    # icalendar folds lines at 75 octets and ends them with CRLF.
    contenu: bytes = calendrier.to_ical()
    return contenu


def _calendrier(methode: str, evenements: list[Event]) -> Calendar:
    calendrier = Calendar()
    calendrier.add("prodid", PRODID)
    calendrier.add("version", "2.0")
    calendrier.add("calscale", "GREGORIAN")
    calendrier.add("method", methode)
    # Clients resolve TZID through these components, not through an IANA database.
    for fuseau in sorted({str(e["DTSTART"].params["TZID"]) for e in evenements}):
        calendrier.add_component(vtimezone(fuseau))
    for evenement in evenements:
        calendrier.add_component(evenement)
    return calendrier


def _evenement(rdv: RdvIcs, *, statut: str, titre: str | None = None) -> Event:
    zone = _zone(rdv.fuseau)
    evenement = Event()
    # Always the caller's UID: icalendar would invent a random one otherwise.
    evenement.add("uid", rdv.uid)
    evenement.add("sequence", rdv.sequence)
    # The last change rather than "now": the same rdv gives the same bytes.
    evenement.add("dtstamp", rdv.modifie_le.astimezone(UTC))
    evenement.add("created", rdv.cree_le.astimezone(UTC))
    evenement.add("last-modified", rdv.modifie_le.astimezone(UTC))
    # Wall-clock time of the site's zone, with TZID=<IANA name>.
    evenement.add("dtstart", rdv.debut.astimezone(zone))
    evenement.add("dtend", rdv.fin.astimezone(zone))
    evenement.add("summary", titre or rdv.titre)
    evenement.add("location", rdv.lieu)
    evenement.add("description", rdv.description)
    evenement.add("status", statut)
    # Social and PMI appointments are sensitive: hide them in shared calendars.
    evenement.add("class", "PRIVATE")
    return evenement


def _ajouter_personnes(evenement: Event, rdv: RdvIcs) -> None:
    if rdv.organisateur_email:
        organisateur = vCalAddress(f"mailto:{rdv.organisateur_email}")
        organisateur.params["CN"] = rdv.organisateur_nom
        evenement.add("organizer", organisateur)
    if rdv.participant_email:
        participant = vCalAddress(f"mailto:{rdv.participant_email}")
        if rdv.participant_nom:
            participant.params["CN"] = rdv.participant_nom
        participant.params["CUTYPE"] = "INDIVIDUAL"
        participant.params["ROLE"] = "REQ-PARTICIPANT"
        # The usager booked it: nothing to answer, so no Accept/Decline prompt.
        participant.params["PARTSTAT"] = "ACCEPTED"
        participant.params["RSVP"] = "FALSE"
        evenement.add("attendee", participant)


def _rappel(rdv: RdvIcs, avance: timedelta) -> Alarm:
    alarme = Alarm()
    alarme.add("action", "DISPLAY")
    alarme.add("trigger", -avance)
    alarme.add("description", f"Rappel : {rdv.titre}")
    return alarme


def _zone(fuseau: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(fuseau)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as erreur:
        raise ValueError(f"fuseau horaire inconnu : {fuseau!r}") from erreur


# --- VTIMEZONE -------------------------------------------------------------
#
# icalendar's Timezone.from_tzid() lists every transition from 1970 to 2038 as
# RDATEs. Outlook ignores RDATE in a VTIMEZONE (MS-STANOICAL 2.2.47: it only
# reads DTSTART, RRULE and the offsets) and then shows summer rdvs an hour off.
# So the current rule of the zone, the POSIX TZ string that ends every TZif
# file ("CET-1CEST,M3.5.0,M10.5.0/3"), is written as two yearly RRULEs, like
# Outlook, Google and Apple write them.

_NOM = r"(?:<[^>]+>|[A-Za-z]{3,})"
_DECALAGE = r"[+-]?\d{1,3}(?::\d{2}){0,2}"
_TZ_POSIX = re.compile(
    rf"(?P<std>{_NOM})(?P<std_dec>{_DECALAGE})"
    rf"(?:(?P<dst>{_NOM})(?P<dst_dec>{_DECALAGE})?,(?P<vers_dst>[^,]+),(?P<vers_std>[^,]+))?"
)
# Only "n-th (or last) weekday of a month, at a time of that day" fits an
# RRULE Outlook understands; other forms go to icalendar's generic builder.
_REGLE = re.compile(
    r"M(?P<mois>\d{1,2})\.(?P<semaine>[1-5])\.(?P<jour>[0-6])(?:/(?P<heure>[^,]+))?"
)
_HEURE = re.compile(r"\d{1,2}(?::\d{2}){0,2}")
_JOURS_RFC5545 = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")  # POSIX counts from Sunday
_ANNEE_DE_DEPART = 1970


@functools.lru_cache(maxsize=64)
def _vtimezone_ical(fuseau: str) -> bytes:
    zone = _zone(fuseau)
    composant = _depuis_regle_posix(zone.key, _regle_posix(zone.key))
    if composant is None:
        composant = Timezone.from_tzid(zone.key)
    contenu: bytes = composant.to_ical()
    return contenu


def vtimezone(fuseau: str) -> Timezone:
    """The VTIMEZONE of an IANA zone, with yearly RRULEs when its rule allows."""
    # A fresh component each time: callers may add it to a calendar and change it.
    composant = Timezone.from_ical(_vtimezone_ical(fuseau))
    assert isinstance(composant, Timezone)
    return composant


def _regle_posix(fuseau: str) -> str:
    """The footer of the zone's TZif file, read where zoneinfo reads it."""
    for racine in zoneinfo.TZPATH:
        chemin = Path(racine, fuseau)
        if chemin.is_file():
            donnees = chemin.read_bytes()
            break
    else:
        ressource = importlib.resources.files("tzdata.zoneinfo").joinpath(*fuseau.split("/"))
        donnees = ressource.read_bytes()
    if donnees[4:5] in (b"", b"\0") or not donnees.endswith(b"\n"):
        return ""  # TZif version 1 carries no rule
    return donnees[donnees.rindex(b"\n", 0, -1) + 1 : -1].decode("ascii")


def _depuis_regle_posix(fuseau: str, regle: str) -> Timezone | None:
    posix = _TZ_POSIX.fullmatch(regle)
    if posix is None:
        return None
    std_nom = posix["std"].strip("<>")
    std_decalage = -_duree(posix["std_dec"])  # POSIX counts hours west of Greenwich
    composant = Timezone()
    composant.add("tzid", fuseau)
    if posix["dst"] is None:
        composant.add_component(
            _observance(TimezoneStandard(), std_nom, std_decalage, std_decalage, None)
        )
        return composant
    dst_nom = posix["dst"].strip("<>")
    dst_decalage = (
        -_duree(posix["dst_dec"]) if posix["dst_dec"] else std_decalage + timedelta(hours=1)
    )
    vers_dst = _REGLE.fullmatch(posix["vers_dst"])
    vers_std = _REGLE.fullmatch(posix["vers_std"])
    if vers_dst is None or vers_std is None:
        return None
    if _heure_du_jour(vers_dst) is None or _heure_du_jour(vers_std) is None:
        return None
    composant.add_component(
        _observance(TimezoneDaylight(), dst_nom, std_decalage, dst_decalage, vers_dst)
    )
    composant.add_component(
        _observance(TimezoneStandard(), std_nom, dst_decalage, std_decalage, vers_std)
    )
    return composant


def _observance(
    observance: TimezoneStandard | TimezoneDaylight,
    nom: str,
    depuis: timedelta,
    vers: timedelta,
    regle: re.Match[str] | None,
) -> TimezoneStandard | TimezoneDaylight:
    if regle is None:
        debut = datetime(_ANNEE_DE_DEPART, 1, 1)
    else:
        mois, semaine, jour = int(regle["mois"]), int(regle["semaine"]), int(regle["jour"])
        heure = _heure_du_jour(regle)
        assert heure is not None  # checked by _depuis_regle_posix
        # The onset is in the wall-clock time in force before it (TZOFFSETFROM).
        debut = datetime.combine(_jour(_ANNEE_DE_DEPART, mois, semaine, jour), time()) + heure
    observance.add("dtstart", debut)
    observance.add("tzoffsetfrom", depuis)
    observance.add("tzoffsetto", vers)
    observance.add("tzname", nom)
    if regle is not None:
        semaine = int(regle["semaine"])
        observance.add(
            "rrule",
            vRecur(
                freq="YEARLY",
                bymonth=int(regle["mois"]),
                byday=f"{-1 if semaine == 5 else semaine}{_JOURS_RFC5545[int(regle['jour'])]}",
            ),
        )
    return observance


def _heure_du_jour(regle: re.Match[str]) -> timedelta | None:
    """The onset time of the day, or None when POSIX moves it to another day."""
    if regle["heure"] is None:
        return timedelta(hours=2)
    if _HEURE.fullmatch(regle["heure"]) is None:
        return None  # negative, like America/Nuuk's "/-1"
    heure = _duree(regle["heure"])
    return heure if heure < timedelta(days=1) else None


def _jour(annee: int, mois: int, semaine: int, jour_posix: int) -> date:
    """The `semaine`-th (5 = last) `jour_posix` (0 = Sunday) of the month."""
    premier = date(annee, mois, 1)
    decalage = (jour_posix - (premier.isoweekday() % 7)) % 7
    jour = premier + timedelta(days=decalage, weeks=semaine - 1)
    while jour.month != mois:
        jour -= timedelta(weeks=1)
    return jour


def _duree(texte: str) -> timedelta:
    signe = -1 if texte.startswith("-") else 1
    parties = [int(p) for p in texte.lstrip("+-").split(":")] + [0, 0]
    return signe * timedelta(hours=parties[0], minutes=parties[1], seconds=parties[2])

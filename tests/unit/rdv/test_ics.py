"""Invitations, cancellations and agents' feeds read back the way calendar clients read them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from icalendar import Calendar, Component, Timezone

from rdv.ics import RdvIcs, annulation, flux_agent, invitation, vtimezone

DESCRIPTION = (
    "Apportez le carnet de santé, l'ordonnance; et la carte Vitale.\n"
    "Code : K7QX\n"
    "Gérer ou annuler : https://rdv.haute-garonne.fr/rdv/K7QX?jeton=abc;def,ghi"
)


def _rdv(**changes: Any) -> RdvIcs:
    valeurs: dict[str, Any] = {
        "uid": "rdv-42@rdv.haute-garonne.fr",
        "sequence": 0,
        "debut": datetime(2026, 3, 30, 7, 0, tzinfo=UTC),
        "fin": datetime(2026, 3, 30, 7, 30, tzinfo=UTC),
        "fuseau": "Europe/Paris",
        "titre": "Rendez-vous PMI : consultation nourrisson",
        "lieu": "PMI de Muret, 12 rue Castelvieilh, 31600 Muret",
        "description": DESCRIPTION,
        "organisateur_nom": "Conseil départemental de la Haute-Garonne",
        "organisateur_email": "ne-pas-repondre@rdv.haute-garonne.fr",
        "participant_nom": "Élodie Dupont-Sénéchal",
        "participant_email": "elodie@example.org",
        "statut": "a_venir",
        "cree_le": datetime(2026, 3, 1, 10, 0, tzinfo=ZoneInfo("Europe/Paris")),
        "modifie_le": datetime(2026, 3, 2, 11, 0, tzinfo=ZoneInfo("Europe/Paris")),
    }
    valeurs.update(changes)
    return RdvIcs(**valeurs)


def _lire(contenu: bytes) -> Calendar:
    return Calendar.from_ical(contenu)


def _evenement(contenu: bytes) -> Component:
    (evenement,) = _lire(contenu).walk("VEVENT")
    return evenement


def _vtimezones(contenu: bytes) -> dict[str, Component]:
    return {str(tz["TZID"]): tz for tz in _lire(contenu).walk("VTIMEZONE")}


def _vers_utc_par_le_vtimezone(vtimezone: Component, locale: datetime) -> datetime:
    """What a client without an IANA database does: the latest onset wins."""
    derniere: tuple[datetime, timedelta] | None = None
    for observance in vtimezone.subcomponents:
        debut = observance["DTSTART"].dt
        if "RRULE" in observance:
            regle = rrulestr(observance["RRULE"].to_ical().decode(), dtstart=debut)
            apparition = regle.before(locale, inc=True)
        else:
            apparition = debut if debut <= locale else None
        if apparition is not None and (derniere is None or apparition > derniere[0]):
            derniere = (apparition, observance["TZOFFSETTO"].td)
    assert derniere is not None, "no observance starts before this date"
    return (locale - derniere[1]).replace(tzinfo=UTC)


def test_the_invitation_is_a_request_with_the_callers_uid_and_sequence() -> None:
    contenu = invitation(_rdv(sequence=3))

    calendrier = _lire(contenu)
    evenement = _evenement(contenu)
    assert calendrier["METHOD"] == "REQUEST"
    assert calendrier["PRODID"] == "-//RDV et file d'attente//FR"
    assert calendrier["VERSION"] == "2.0"
    assert calendrier["CALSCALE"] == "GREGORIAN"
    assert evenement["UID"] == "rdv-42@rdv.haute-garonne.fr"
    assert evenement["SEQUENCE"] == 3
    assert evenement["STATUS"] == "CONFIRMED"


def test_the_uid_stays_the_same_in_the_invitation_the_cancellation_and_the_feed() -> None:
    rdv = _rdv()
    flux = flux_agent([rdv], nom_calendrier="Agenda", fuseau="Europe/Paris")

    uids = {
        str(_evenement(invitation(rdv))["UID"]),
        str(_evenement(annulation(dataclasses.replace(rdv, sequence=1)))["UID"]),
        str(_evenement(flux)["UID"]),
    }

    assert uids == {"rdv-42@rdv.haute-garonne.fr"}


@pytest.mark.parametrize(
    ("debut", "fuseau", "ligne"),
    [
        # Monday after the spring change (Sunday 29 March 2026): UTC+2.
        (datetime(2026, 3, 30, 7, 0, tzinfo=UTC), "Europe/Paris", "20260330T090000"),
        # Monday after the autumn change (Sunday 25 October 2026): UTC+1.
        (datetime(2026, 10, 26, 8, 0, tzinfo=UTC), "Europe/Paris", "20261026T090000"),
        # La Réunion: UTC+4 all year.
        (datetime(2026, 3, 30, 5, 0, tzinfo=UTC), "Indian/Reunion", "20260330T090000"),
    ],
)
def test_dtstart_is_nine_oclock_local_time_with_the_zone_as_tzid(
    debut: datetime, fuseau: str, ligne: str
) -> None:
    contenu = invitation(_rdv(debut=debut, fin=debut + timedelta(minutes=30), fuseau=fuseau))

    evenement = _evenement(contenu)
    assert evenement["DTSTART"].params["TZID"] == fuseau
    assert evenement["DTSTART"].dt.replace(tzinfo=None).time() == datetime(2026, 1, 1, 9).time()
    assert evenement["DTSTART"].dt == debut
    assert f"DTSTART;TZID={fuseau}:{ligne}\r\n".encode() in contenu
    assert evenement["DTEND"].params["TZID"] == fuseau
    assert evenement["DTEND"].dt == debut + timedelta(minutes=30)


def test_the_paris_vtimezone_has_a_standard_at_plus_one_and_a_daylight_at_plus_two() -> None:
    (paris,) = _vtimezones(invitation(_rdv())).values()

    (standard,) = paris.walk("STANDARD")
    (daylight,) = paris.walk("DAYLIGHT")
    assert paris["TZID"] == "Europe/Paris"
    assert standard["TZOFFSETFROM"].to_ical() == "+0200"
    assert standard["TZOFFSETTO"].to_ical() == "+0100"
    assert daylight["TZOFFSETFROM"].to_ical() == "+0100"
    assert daylight["TZOFFSETTO"].to_ical() == "+0200"


def test_the_paris_vtimezone_uses_the_yearly_rrules_outlook_reads_and_no_rdates() -> None:
    contenu = invitation(_rdv())

    (paris,) = _vtimezones(contenu).values()
    regles = {o.name: o["RRULE"].to_ical() for o in paris.subcomponents}
    assert regles == {
        "DAYLIGHT": b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
        "STANDARD": b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
    }
    # Onsets in the wall-clock time before the change: 02:00 CET, 03:00 CEST.
    debuts = {o.name: o["DTSTART"].dt for o in paris.subcomponents}
    assert debuts == {
        "DAYLIGHT": datetime(1970, 3, 29, 2, 0),
        "STANDARD": datetime(1970, 10, 25, 3, 0),
    }
    assert not any("RDATE" in o for o in paris.subcomponents)
    # Outlook wants the zone defined before the event that uses it.
    assert contenu.index(b"BEGIN:VTIMEZONE") < contenu.index(b"BEGIN:VEVENT")


def test_the_reunion_vtimezone_has_only_a_standard_at_plus_four() -> None:
    debut = datetime(2026, 3, 30, 5, 0, tzinfo=UTC)
    contenu = invitation(_rdv(debut=debut, fin=debut + timedelta(hours=1), fuseau="Indian/Reunion"))

    (reunion,) = _vtimezones(contenu).values()
    assert reunion["TZID"] == "Indian/Reunion"
    assert [o.name for o in reunion.subcomponents] == ["STANDARD"]
    assert reunion.walk("STANDARD")[0]["TZOFFSETTO"].to_ical() == "+0400"


@pytest.mark.parametrize(
    ("debut", "fuseau"),
    [
        (datetime(2026, 3, 30, 7, 0, tzinfo=UTC), "Europe/Paris"),
        (datetime(2026, 10, 26, 8, 0, tzinfo=UTC), "Europe/Paris"),
        (datetime(2026, 3, 27, 8, 0, tzinfo=UTC), "Europe/Paris"),
        (datetime(2026, 10, 23, 7, 0, tzinfo=UTC), "Europe/Paris"),
        (datetime(2031, 7, 15, 12, 30, tzinfo=UTC), "Europe/Paris"),
        # The changes happen at night: the Sundays themselves are already changed by 11:00.
        (datetime(2026, 3, 29, 9, 0, tzinfo=UTC), "Europe/Paris"),
        (datetime(2026, 10, 25, 10, 0, tzinfo=UTC), "Europe/Paris"),
        (datetime(2026, 3, 30, 5, 0, tzinfo=UTC), "Indian/Reunion"),
        (datetime(2026, 4, 13, 12, 0, tzinfo=UTC), "America/Miquelon"),
    ],
)
def test_the_vtimezone_alone_turns_dtstart_into_the_right_utc_instant(
    debut: datetime, fuseau: str
) -> None:
    contenu = invitation(_rdv(debut=debut, fin=debut + timedelta(hours=1), fuseau=fuseau))

    locale = _evenement(contenu)["DTSTART"].dt.replace(tzinfo=None)
    (definition,) = _vtimezones(contenu).values()
    assert _vers_utc_par_le_vtimezone(definition, locale) == debut
    # icalendar's own reading, told not to look the TZID up in its database.
    zone_du_fichier = definition.to_tz(lookup_tzid=False)
    assert locale.replace(tzinfo=zone_du_fichier).astimezone(UTC) == debut


def test_every_monday_at_nine_in_paris_for_five_years_resolves_through_the_vtimezone() -> None:
    definition = vtimezone("Europe/Paris")
    paris = ZoneInfo("Europe/Paris")
    lundi = datetime(2026, 1, 5, 9, 0)

    while lundi.year < 2031:
        attendu = lundi.replace(tzinfo=paris).astimezone(UTC)
        assert _vers_utc_par_le_vtimezone(definition, lundi) == attendu, lundi
        lundi += timedelta(weeks=1)


def test_a_zone_whose_rule_no_outlook_rrule_can_express_still_gets_a_working_vtimezone() -> None:
    # Chile changes at 24:00 on a Saturday: icalendar's own builder takes over.
    debut = datetime(2026, 1, 12, 13, 0, tzinfo=UTC)
    contenu = invitation(
        _rdv(debut=debut, fin=debut + timedelta(hours=1), fuseau="America/Santiago")
    )

    locale = _evenement(contenu)["DTSTART"].dt.replace(tzinfo=None)
    (definition,) = _vtimezones(contenu).values()
    assert locale == datetime(2026, 1, 12, 10, 0)
    assert locale.replace(tzinfo=definition.to_tz(lookup_tzid=False)).astimezone(UTC) == debut


@pytest.mark.parametrize(
    "produire",
    [
        invitation,
        annulation,
        lambda rdv: flux_agent([rdv, rdv], nom_calendrier="Agenda", fuseau="Europe/Paris"),
    ],
    ids=["invitation", "annulation", "flux"],
)
def test_lines_end_with_crlf_and_are_at_most_75_octets(produire: Any) -> None:
    rdv = _rdv(description=DESCRIPTION * 5, lieu="Maison départementale de la solidarité " * 4)

    contenu: bytes = produire(rdv)

    assert contenu.endswith(b"\r\n")
    lignes = contenu.split(b"\r\n")[:-1]
    assert b"\n" not in b"".join(lignes)
    assert max(len(ligne) for ligne in lignes) <= 75
    assert any(ligne.startswith(b" ") for ligne in lignes), "nothing was folded"
    contenu.decode("utf-8")  # folding never splits a multi-byte character


def test_text_with_commas_semicolons_newlines_and_accents_round_trips() -> None:
    rdv = _rdv(
        titre="Rendez-vous social : aide, accès; droits",
        lieu="MDS de Saint-Gaudens, 2 rue de l'Église; bâtiment B\n2e étage",
        organisateur_nom="Conseil départemental, service social",
        participant_nom='Zoë "Zo" N\'Guessan, épouse Martin',
    )

    evenement = _evenement(invitation(rdv))

    assert str(evenement["DESCRIPTION"]) == DESCRIPTION
    assert str(evenement["SUMMARY"]) == rdv.titre
    assert str(evenement["LOCATION"]) == rdv.lieu
    assert evenement["ORGANIZER"].params["CN"] == rdv.organisateur_nom
    assert evenement["ATTENDEE"].params["CN"] == rdv.participant_nom


def test_the_organizer_and_the_attendee_are_mailto_addresses_with_names_and_no_rsvp() -> None:
    evenement = _evenement(invitation(_rdv()))

    organisateur = evenement["ORGANIZER"]
    participant = evenement["ATTENDEE"]
    assert organisateur == "mailto:ne-pas-repondre@rdv.haute-garonne.fr"
    assert organisateur.params["CN"] == "Conseil départemental de la Haute-Garonne"
    assert participant == "mailto:elodie@example.org"
    assert participant.params["CN"] == "Élodie Dupont-Sénéchal"
    assert participant.params["ROLE"] == "REQ-PARTICIPANT"
    assert participant.params["PARTSTAT"] == "ACCEPTED"
    assert participant.params["RSVP"] == "FALSE"


def test_without_e_mail_addresses_there_is_no_organizer_nor_attendee() -> None:
    evenement = _evenement(invitation(_rdv(organisateur_email=None, participant_email=None)))

    assert "ORGANIZER" not in evenement
    assert "ATTENDEE" not in evenement


def test_the_invitation_reminds_one_hour_before_in_french_unless_told_otherwise() -> None:
    (alarme,) = _evenement(invitation(_rdv())).walk("VALARM")
    assert alarme["ACTION"] == "DISPLAY"
    assert alarme["TRIGGER"].dt == timedelta(hours=-1)
    assert alarme["DESCRIPTION"] == "Rappel : Rendez-vous PMI : consultation nourrisson"

    (alarme,) = _evenement(invitation(_rdv(), rappel=timedelta(days=1))).walk("VALARM")
    assert alarme["TRIGGER"].dt == timedelta(days=-1)

    assert _evenement(invitation(_rdv(), rappel=None)).walk("VALARM") == []


def test_the_cancellation_is_a_cancel_with_status_cancelled_and_the_bumped_sequence() -> None:
    contenu = annulation(_rdv(sequence=2, statut="annule"))

    evenement = _evenement(contenu)
    assert _lire(contenu)["METHOD"] == "CANCEL"
    assert evenement["STATUS"] == "CANCELLED"
    assert evenement["SEQUENCE"] == 2
    assert evenement["ORGANIZER"] == "mailto:ne-pas-repondre@rdv.haute-garonne.fr"
    assert evenement.walk("VALARM") == []


@pytest.mark.parametrize(
    "produire",
    [
        invitation,
        annulation,
        lambda rdv: flux_agent([rdv], nom_calendrier="Agenda", fuseau="Europe/Paris"),
    ],
    ids=["invitation", "annulation", "flux"],
)
def test_dtstamp_is_utc(produire: Any) -> None:
    contenu: bytes = produire(_rdv())

    evenement = _evenement(contenu)
    assert evenement["DTSTAMP"].dt == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert evenement["DTSTAMP"].dt.utcoffset() == timedelta(0)
    assert b"DTSTAMP:20260302T100000Z\r\n" in contenu


def test_the_feed_lists_one_event_per_rdv_with_unique_uids() -> None:
    rdvs = [
        _rdv(
            uid=f"rdv-{n}@rdv.haute-garonne.fr",
            debut=datetime(2026, 3, 30, 7, tzinfo=UTC) + timedelta(hours=n),
            fin=datetime(2026, 3, 30, 7, 30, tzinfo=UTC) + timedelta(hours=n),
        )
        for n in range(5)
    ]

    contenu = flux_agent(rdvs, nom_calendrier="Agenda de Marie Curie", fuseau="Europe/Paris")

    calendrier = _lire(contenu)
    uids = [str(e["UID"]) for e in calendrier.walk("VEVENT")]
    assert uids == [rdv.uid for rdv in rdvs]
    assert len(set(uids)) == 5
    assert calendrier["METHOD"] == "PUBLISH"
    assert calendrier["X-WR-CALNAME"] == "Agenda de Marie Curie"
    assert calendrier["X-WR-TIMEZONE"] == "Europe/Paris"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT15M\r\n" in contenu
    assert b"X-PUBLISHED-TTL:PT15M\r\n" in contenu


def test_the_feed_marks_cancelled_rdvs_cancelled_and_keeps_the_others_confirmed() -> None:
    rdvs = [
        _rdv(uid="a", statut="a_venir"),
        _rdv(uid="b", statut="annule"),
        _rdv(uid="c", statut="excuse"),
        _rdv(uid="d", statut="vu"),
    ]

    evenements = _lire(flux_agent(rdvs, nom_calendrier="Agenda", fuseau="Europe/Paris")).walk(
        "VEVENT"
    )

    statuts = {str(e["UID"]): str(e["STATUS"]) for e in evenements}
    assert statuts == {"a": "CONFIRMED", "b": "CANCELLED", "c": "CANCELLED", "d": "CONFIRMED"}
    assert str(evenements[1]["SUMMARY"]).startswith("Annulé : ")


def test_the_feed_has_one_vtimezone_per_zone_used() -> None:
    reunion = datetime(2026, 3, 30, 5, tzinfo=UTC)
    rdvs = [
        _rdv(uid="a"),
        _rdv(uid="b"),
        _rdv(uid="c", fuseau="Indian/Reunion", debut=reunion, fin=reunion + timedelta(hours=1)),
    ]

    contenu = flux_agent(rdvs, nom_calendrier="Agenda", fuseau="Europe/Paris")

    assert sorted(_vtimezones(contenu)) == ["Europe/Paris", "Indian/Reunion"]
    assert contenu.count(b"BEGIN:VTIMEZONE") == 2


def test_the_feed_carries_the_usagers_name_but_not_their_e_mail() -> None:
    contenu = flux_agent([_rdv()], nom_calendrier="Agenda", fuseau="Europe/Paris")

    evenement = _evenement(contenu)
    assert "Élodie Dupont-Sénéchal" in str(evenement["SUMMARY"])
    assert b"elodie@example.org" not in contenu
    assert "ATTENDEE" not in evenement


def test_the_same_rdv_gives_the_same_bytes() -> None:
    assert invitation(_rdv()) == invitation(_rdv())


@pytest.mark.parametrize(
    "changes",
    [
        {"debut": datetime(2026, 3, 30, 9, 0)},
        {"modifie_le": datetime(2026, 3, 2, 11, 0)},
        {"fin": datetime(2026, 3, 30, 6, 0, tzinfo=UTC)},
        {"sequence": -1},
        {"uid": ""},
    ],
    ids=["naive-debut", "naive-modifie_le", "fin-before-debut", "negative-sequence", "no-uid"],
)
def test_an_rdv_that_no_calendar_could_place_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        _rdv(**changes)


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="fuseau horaire inconnu"):
        invitation(_rdv(fuseau="Europe/Tataouine"))


def test_vtimezone_returns_a_component_the_caller_may_change() -> None:
    premier = vtimezone("Europe/Paris")
    premier["TZID"] = "abîmé"

    assert isinstance(vtimezone("Europe/Paris"), Timezone)
    assert vtimezone("Europe/Paris")["TZID"] == "Europe/Paris"

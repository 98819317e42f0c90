"""The slot engine: the grid, accoler, DST, absences, closed days, booking delays, RRULEs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rdv._creneaux_recurrence import EPOCH, MICROSECONDE, en_us, occurrences_plage
from rdv.creneaux import (
    Absence,
    Creneau,
    MotifRegles,
    Occupation,
    Occupations,
    PlageOuverture,
    RegleInvalide,
    creneaux_libres,
    prochain_creneau_par_site,
    verifier_regle,
)

PARIS = "Europe/Paris"
MINUTE = timedelta(minutes=1)
MOTIF_30 = MotifRegles(1, 30 * MINUTE, timedelta(0), timedelta(days=365))


def local(texte: str, fuseau: str = PARIS) -> datetime:
    return datetime.fromisoformat(texte).replace(tzinfo=ZoneInfo(fuseau))


def utc(texte: str) -> datetime:
    return datetime.fromisoformat(texte).replace(tzinfo=UTC)


def plage(
    *,
    id: int = 1,
    agent_id: int = 1,
    site_id: int = 1,
    motif_ids: AbstractSet[int] = frozenset({1}),
    heures: tuple[str, str] = ("09:00", "12:00"),
    premier_jour: date = date(2026, 3, 2),
    rrule: str | None = "FREQ=WEEKLY;BYDAY=MO",
    fin: date | None = None,
) -> PlageOuverture:
    return PlageOuverture(
        id=id,
        agent_id=agent_id,
        site_id=site_id,
        motif_ids=frozenset(motif_ids),
        heure_debut=time.fromisoformat(heures[0]),
        heure_fin=time.fromisoformat(heures[1]),
        premier_jour=premier_jour,
        rrule=rrule,
        fin=fin,
    )


def libres(
    plages: Iterable[PlageOuverture],
    *,
    absences: Iterable[Absence] = (),
    occupations: Iterable[Occupation] = (),
    jours_fermes: Mapping[int, AbstractSet[date]] | None = None,
    motif: MotifRegles = MOTIF_30,
    debut: str = "2026-03-02T00:00",
    fin: str = "2026-03-03T00:00",
    maintenant: str = "2026-01-01T00:00",
    fuseau: str = PARIS,
) -> list[Creneau]:
    return creneaux_libres(
        list(plages),
        list(absences),
        list(occupations),
        jours_fermes or {},
        motif,
        local(debut, fuseau),
        local(fin, fuseau),
        local(maintenant, fuseau),
        fuseau,
    )


def heures(creneaux: Iterable[Creneau], fuseau: str = PARIS) -> list[str]:
    """The local start times, "HH:MM"."""
    return [c.debut.astimezone(ZoneInfo(fuseau)).strftime("%H:%M") for c in creneaux]


def jours(creneaux: Iterable[Creneau], fuseau: str = PARIS) -> list[date]:
    """The local days that have at least one créneau, in order."""
    return sorted({c.debut.astimezone(ZoneInfo(fuseau)).date() for c in creneaux})


def motif(
    minutes: int,
    *,
    accoler: bool = False,
    delai_min: timedelta = timedelta(0),
    delai_max: timedelta = timedelta(days=365),
) -> MotifRegles:
    return MotifRegles(1, minutes * MINUTE, delai_min, delai_max, accoler)


# --- Daylight saving and overseas zones ---------------------------------------------------------


def test_a_weekly_plage_stays_at_nine_local_the_monday_after_the_spring_change() -> None:
    creneaux = libres([plage()], debut="2026-03-23T00:00", fin="2026-04-01T00:00")

    firsts = [c.debut for c in creneaux if c.debut.astimezone(ZoneInfo(PARIS)).hour == 9][::2]
    assert firsts == [utc("2026-03-23T08:00"), utc("2026-03-30T07:00")]


def test_a_weekly_plage_stays_at_nine_local_the_monday_after_the_autumn_change() -> None:
    creneaux = libres([plage()], debut="2026-10-19T00:00", fin="2026-10-28T00:00")

    assert creneaux[0].debut == utc("2026-10-19T07:00")
    assert creneaux[6].debut == utc("2026-10-26T08:00")
    assert heures(creneaux) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"] * 2


@pytest.mark.parametrize(
    ("dimanche", "neuf_heures_utc"),
    [("2026-03-29", "2026-03-29T07:00"), ("2026-10-25", "2026-10-25T08:00")],
)
def test_a_plage_on_the_sunday_of_a_change_is_at_nine_local_that_very_day(
    dimanche: str, neuf_heures_utc: str
) -> None:
    creneaux = libres(
        [plage(rrule="FREQ=WEEKLY;BYDAY=SU", premier_jour=date(2025, 1, 5))],
        debut=f"{dimanche}T00:00",
        fin=f"{dimanche}T23:00",
    )

    assert creneaux[0].debut == utc(neuf_heures_utc)
    assert heures(creneaux) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert all(c.fin - c.debut == 30 * MINUTE for c in creneaux)


@pytest.mark.parametrize(
    ("fuseau", "mars", "octobre"),
    [
        ("Indian/Reunion", "2026-03-30T05:00", "2026-10-26T05:00"),
        ("America/Guadeloupe", "2026-03-30T13:00", "2026-10-26T13:00"),
    ],
)
def test_overseas_zones_without_dst_keep_the_same_utc_hour_all_year(
    fuseau: str, mars: str, octobre: str
) -> None:
    printemps = libres([plage()], debut="2026-03-30T00:00", fin="2026-03-31T00:00", fuseau=fuseau)
    automne = libres([plage()], debut="2026-10-26T00:00", fin="2026-10-27T00:00", fuseau=fuseau)

    assert printemps[0].debut == utc(mars)
    assert automne[0].debut == utc(octobre)
    assert heures(automne, fuseau) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]


@pytest.mark.parametrize(
    ("jour", "attendus_utc"),
    [
        # 02:00 does not exist: it takes the offset before the change (01:00Z), one hour of plage.
        ("2026-03-29", ["01:00", "01:30"]),
        # 02:00 happens twice: the first one (00:00Z), three hours of plage.
        ("2026-10-25", ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30"]),
    ],
)
def test_a_night_plage_across_a_change_lasts_the_real_time_between_its_local_bounds(
    jour: str, attendus_utc: list[str]
) -> None:
    nuit = plage(heures=("02:00", "04:00"), rrule="FREQ=DAILY", premier_jour=date(2026, 1, 1))

    creneaux = libres([nuit], debut=f"{jour}T00:00", fin=f"{jour}T12:00")

    assert [c.debut.strftime("%H:%M") for c in creneaux] == attendus_utc


def test_creneaux_are_aware_utc_datetimes() -> None:
    creneau = libres([plage()])[0]

    assert creneau.debut.tzinfo is UTC and creneau.fin.tzinfo is UTC
    assert creneau == Creneau(utc("2026-03-02T08:00"), utc("2026-03-02T08:30"), 1, 1, 1)


# --- The grid and accoler -----------------------------------------------------------------------


def test_a_30_minute_motif_in_a_three_hour_plage_offers_six_creneaux_on_the_grid() -> None:
    assert heures(libres([plage()])) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]


def test_a_20_minute_rdv_at_nine_drops_nine_and_leaves_half_past_nine_free() -> None:
    rdv = Occupation(1, local("2026-03-02T09:00"), local("2026-03-02T09:20"))

    assert heures(libres([plage()], occupations=[rdv])) == [
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
    ]


def test_accoler_puts_the_next_creneau_right_after_a_20_minute_rdv_at_nine() -> None:
    rdv = Occupation(1, local("2026-03-02T09:00"), local("2026-03-02T09:20"))

    assert heures(libres([plage()], occupations=[rdv], motif=motif(30, accoler=True))) == [
        "09:20",
        "09:50",
        "10:20",
        "10:50",
        "11:20",
    ]


def test_a_17_minute_rdv_drops_only_the_grid_position_it_overlaps() -> None:
    rdv = Occupation(1, local("2026-03-02T09:30"), local("2026-03-02T09:47"))

    assert heures(libres([plage()], occupations=[rdv])) == [
        "09:00",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
    ]
    assert heures(libres([plage()], occupations=[rdv], motif=motif(30, accoler=True))) == [
        "09:00",
        "09:47",
        "10:17",
        "10:47",
        "11:17",
    ]


def test_accoler_skips_several_busy_intervals_in_a_row() -> None:
    occupations = [
        Occupation(1, local("2026-03-02T09:10"), local("2026-03-02T09:25")),
        Occupation(1, local("2026-03-02T09:25"), local("2026-03-02T09:40")),
        Occupation(1, local("2026-03-02T10:00"), local("2026-03-02T10:05")),
    ]

    creneaux = libres([plage()], occupations=occupations, motif=motif(20, accoler=True))

    assert heures(creneaux)[:3] == ["09:40", "10:05", "10:25"]


def test_a_45_minute_motif_in_a_plage_of_two_hours_ten_ends_before_the_plage_does() -> None:
    creneaux = libres([plage(heures=("09:00", "11:10"))], motif=motif(45))

    assert heures(creneaux) == ["09:00", "09:45"]
    assert creneaux[-1].fin == local("2026-03-02T10:30")


def test_a_rdv_of_another_agent_or_a_plage_without_the_motif_changes_nothing() -> None:
    autre_agent = Occupation(2, local("2026-03-02T09:00"), local("2026-03-02T12:00"))
    sans_le_motif = plage(id=2, agent_id=3, motif_ids={2})

    creneaux = libres([plage(), sans_le_motif], occupations=[autre_agent])

    assert heures(creneaux) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert {c.agent_id for c in creneaux} == {1}


def test_occupations_in_another_zone_than_utc_are_compared_as_instants() -> None:
    # 10:00 in Paris is 13:00 in Moscow (no DST there): both say the same instant.
    rdv = Occupation(
        1, local("2026-03-02T12:00", "Europe/Moscow"), local("2026-03-02T12:30", "Europe/Moscow")
    )

    assert "10:00" not in heures(libres([plage()], occupations=[rdv]))
    assert "09:30" in heures(libres([plage()], occupations=[rdv]))


# --- Absences -----------------------------------------------------------------------------------


def test_an_absence_in_the_middle_of_a_plage_drops_only_the_positions_it_overlaps() -> None:
    absence = Absence(1, local("2026-03-02T10:15"), local("2026-03-02T11:00"))

    assert heures(libres([plage()], absences=[absence])) == ["09:00", "09:30", "11:00", "11:30"]


def test_an_absence_of_several_days_closes_every_plage_it_covers() -> None:
    conge = Absence(1, local("2026-03-03T00:00"), local("2026-03-06T00:00"))
    tous_les_jours = plage(rrule="FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR")

    creneaux = libres(
        [tous_les_jours], absences=[conge], debut="2026-03-02T00:00", fin="2026-03-07T00:00"
    )

    assert jours(creneaux) == [date(2026, 3, 2), date(2026, 3, 6)]


def test_a_weekly_absence_every_wednesday_afternoon_keeps_its_local_hours_across_dst() -> None:
    mercredis = plage(heures=("09:00", "17:00"), rrule="FREQ=WEEKLY;BYDAY=WE")
    apres_midi = Absence(
        1, local("2026-03-04T13:30"), local("2026-03-04T17:00"), "FREQ=WEEKLY;BYDAY=WE"
    )

    creneaux = libres(
        [mercredis],
        absences=[apres_midi],
        motif=motif(60),
        debut="2026-03-11T00:00",
        fin="2026-04-09T00:00",
    )

    assert jours(creneaux) == [
        date(2026, 3, 11),
        date(2026, 3, 18),
        date(2026, 3, 25),
        date(2026, 4, 1),
        date(2026, 4, 8),
    ]
    assert heures(creneaux) == ["09:00", "10:00", "11:00", "12:00"] * 5


def test_a_weekly_night_absence_keeps_its_local_end_on_the_night_of_the_change() -> None:
    # Saturday 20:00 to Sunday 10:00 local: 14 hours, but 13 on the night of 2026-03-29.
    nuit = Absence(1, local("2026-03-21T20:00"), local("2026-03-22T10:00"), "FREQ=WEEKLY")
    dimanche = plage(rrule="FREQ=WEEKLY;BYDAY=SU")

    creneaux = libres([dimanche], absences=[nuit], debut="2026-03-29T00:00", fin="2026-03-30T00:00")

    assert heures(creneaux) == ["10:00", "10:30", "11:00", "11:30"]


def test_an_absence_that_recurs_by_day_also_blocks_the_day_of_its_first_occurrence() -> None:
    pause = Absence(1, local("2026-03-02T10:00"), local("2026-03-02T11:00"), "FREQ=DAILY;COUNT=2")
    deux_jours = plage(rrule="FREQ=DAILY;COUNT=3")

    creneaux = libres([deux_jours], absences=[pause], motif=motif(60), fin="2026-03-05T00:00")

    assert heures(creneaux) == ["09:00", "11:00", "09:00", "11:00", "09:00", "10:00", "11:00"]


# --- Closed days --------------------------------------------------------------------------------


def test_a_closed_day_of_the_site_gives_no_creneau_and_other_sites_stay_open() -> None:
    site_1 = plage(rrule="FREQ=DAILY")
    site_2 = plage(id=2, site_id=2, heures=("14:00", "15:00"), rrule="FREQ=DAILY")
    fermes = {1: {date(2026, 5, 1), date(2026, 5, 4)}}  # 1 May, and a closure on Monday

    creneaux = libres(
        [site_1, site_2], jours_fermes=fermes, debut="2026-04-30T00:00", fin="2026-05-05T00:00"
    )

    assert jours(c for c in creneaux if c.site_id == 1) == [
        date(2026, 4, 30),
        date(2026, 5, 2),
        date(2026, 5, 3),
    ]
    assert jours(c for c in creneaux if c.site_id == 2) == [
        date(2026, 4, 30) + timedelta(days=n) for n in range(5)
    ]


# --- The booking window -------------------------------------------------------------------------


def test_now_in_the_middle_of_a_plage_keeps_the_grid_and_offers_nothing_in_the_past() -> None:
    creneaux = libres([plage()], maintenant="2026-03-02T10:07")

    assert heures(creneaux) == ["10:30", "11:00", "11:30"]


def test_accoler_after_now_still_packs_after_the_rdv_that_ended_before_now() -> None:
    # The walk starts at the plage start: 09:00 is busy until 09:05, then 09:05, 09:35...
    rdv = Occupation(1, local("2026-03-02T08:50"), local("2026-03-02T09:05"))

    creneaux = libres(
        [plage()], occupations=[rdv], motif=motif(30, accoler=True), maintenant="2026-03-02T09:06"
    )

    assert heures(creneaux) == ["09:35", "10:05", "10:35", "11:05"]


def test_a_negative_delai_min_never_offers_a_creneau_in_the_past() -> None:
    creneaux = libres(
        [plage()], maintenant="2026-03-02T10:07", motif=motif(30, delai_min=-timedelta(hours=2))
    )

    assert heures(creneaux) == ["10:30", "11:00", "11:30"]


def test_delai_min_of_two_hours_counts_from_now() -> None:
    journee = plage(heures=("09:00", "17:00"))

    creneaux = libres(
        [journee], maintenant="2026-03-02T10:10", motif=motif(30, delai_min=timedelta(hours=2))
    )

    assert heures(creneaux)[0] == "12:30"
    assert all(c.debut >= local("2026-03-02T12:10") for c in creneaux)


def test_delai_max_of_30_days_is_the_last_possible_start() -> None:
    chaque_jour = plage(rrule="FREQ=DAILY")
    delais = motif(30, delai_min=timedelta(hours=2), delai_max=timedelta(days=30))

    creneaux = libres(
        [chaque_jour],
        motif=delais,
        debut="2026-03-02T00:00",
        fin="2026-05-01T00:00",
        maintenant="2026-03-02T10:00",
    )

    # 10:00 + 2 h leaves nothing on the 2nd; 10:00 + 30 days is the last start, included.
    assert creneaux[0].debut == local("2026-03-03T09:00")
    assert creneaux[-1].debut == local("2026-04-01T10:00")
    assert heures(creneaux[-3:]) == ["09:00", "09:30", "10:00"]


def test_the_search_window_bounds_both_ends_of_a_creneau() -> None:
    creneaux = libres([plage()], debut="2026-03-02T09:15", fin="2026-03-02T11:45")

    assert heures(creneaux) == ["09:30", "10:00", "10:30", "11:00"]


# --- Recurrence rules ---------------------------------------------------------------------------


def test_interval_2_gives_every_other_wednesday_even_years_after_the_first_day() -> None:
    quinzaine = plage(premier_jour=date(2023, 1, 4), rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=WE")

    creneaux = libres([quinzaine], debut="2026-03-01T00:00", fin="2026-04-01T00:00")

    # 2023-01-04 + 166 weeks = 2026-03-11.
    assert jours(creneaux) == [date(2026, 3, 11), date(2026, 3, 25)]


@pytest.mark.parametrize(
    ("wkst", "weekends"),
    [
        # Weeks from Sunday: the Sunday and the following Saturday, every third week.
        ("SU", [date(2026, 3, 15), date(2026, 3, 21), date(2026, 4, 5), date(2026, 4, 11)]),
        ("MO", [date(2026, 3, 14), date(2026, 3, 15), date(2026, 4, 4), date(2026, 4, 5)]),
    ],
)
def test_wkst_decides_which_days_share_a_week_of_a_rule_started_on_a_sunday(
    wkst: str, weekends: list[date]
) -> None:
    regle = f"FREQ=WEEKLY;INTERVAL=3;BYDAY=SA,SU;WKST={wkst}"
    tous_les_trois_weekends = plage(premier_jour=date(2024, 1, 7), rrule=regle)

    creneaux = libres([tous_les_trois_weekends], debut="2026-03-01T00:00", fin="2026-04-15T00:00")

    assert jours(creneaux) == weekends


@pytest.mark.parametrize(
    ("until", "dernier_lundi"),
    [
        ("20260316", date(2026, 3, 16)),  # a date: that day included
        ("20260316T090000", date(2026, 3, 16)),  # local time
        ("20260316T080000Z", date(2026, 3, 16)),  # UTC, 09:00 in Paris
        ("20260316T075959Z", date(2026, 3, 9)),
    ],
)
def test_until_is_the_last_possible_occurrence_in_any_of_its_forms(
    until: str, dernier_lundi: date
) -> None:
    jusqu_au = plage(rrule=f"FREQ=WEEKLY;BYDAY=MO;UNTIL={until}")

    creneaux = libres([jusqu_au], fin="2026-04-01T00:00")

    assert jours(creneaux)[-1] == dernier_lundi


def test_count_counts_from_the_first_day_not_from_the_search_window() -> None:
    trois_fois = plage(rrule="FREQ=WEEKLY;BYDAY=MO,TH;COUNT=3")

    assert jours(libres([trois_fois], fin="2026-04-01T00:00")) == [
        date(2026, 3, 2),
        date(2026, 3, 5),
        date(2026, 3, 9),
    ]
    assert jours(libres([trois_fois], debut="2026-03-06T00:00", fin="2026-04-01T00:00")) == [
        date(2026, 3, 9)
    ]


def test_a_plage_with_fin_stops_after_that_day_included() -> None:
    creneaux = libres([plage(fin=date(2026, 3, 16))], fin="2026-04-01T00:00")

    assert jours(creneaux) == [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]


def test_a_plage_without_rrule_happens_once_on_its_first_day() -> None:
    une_fois = plage(premier_jour=date(2026, 3, 4), rrule=None)

    assert jours(libres([une_fois], fin="2026-04-01T00:00")) == [date(2026, 3, 4)]


def test_a_first_day_that_the_rule_does_not_match_is_not_an_occurrence() -> None:
    # dateutil's reading of RFC 5545: DTSTART counts only if the rule matches it.
    depuis_un_mercredi = plage(premier_jour=date(2026, 3, 4), rrule="FREQ=WEEKLY;BYDAY=MO")

    assert jours(libres([depuis_un_mercredi], fin="2026-03-10T00:00")) == [date(2026, 3, 9)]


@pytest.mark.parametrize(
    ("regle", "pourquoi"),
    [
        ("", "n'est pas NOM=valeur"),
        ("FREQ=WEEKLY;;BYDAY=MO", "n'est pas NOM=valeur"),
        ("RRULE:FREQ=WEEKLY", "n'est pas accepté"),
        ("FREQ=WEEKLY;BYHOUR=9", "« BYHOUR » n'est pas accepté"),
        ("BYDAY=MO", "FREQ doit être"),
        ("FREQ=HOURLY", "FREQ doit être"),
        ("FREQ=FOO", "FREQ doit être"),
        ("FREQ=WEEKLY;FREQ=DAILY", "est répété"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL doit être un entier de 1 à 9999"),
        ("FREQ=WEEKLY;COUNT=-1", "COUNT doit être"),
        ("FREQ=WEEKLY;COUNT=²", "COUNT doit être"),
        ("FREQ=YEARLY;BYYEARDAY=1", "« BYYEARDAY » n'est pas accepté"),
        ("FREQ=WEEKLY;BYMONTH=13", "BYMONTH « 13 »"),
        ("FREQ=WEEKLY;COUNT=2;UNTIL=20260401", "COUNT et UNTIL"),
        ("FREQ=WEEKLY;UNTIL=2026-04-01", "UNTIL « 2026-04-01 » illisible"),
        ("FREQ=WEEKLY;UNTIL=20261340", "UNTIL « 20261340 » illisible"),
        ("FREQ=WEEKLY;BYDAY=XX", "illisible"),
        ("FREQ=WEEKLY;WKST=XX", "illisible"),
        ("FREQ=MONTHLY;BYSETPOS=0;BYDAY=MO", "BYSETPOS « 0 » : des entiers de 1 à 366"),
        ("FREQ=WEEKLY;BYDAY=MO,,TU", "illisible"),
    ],
)
def test_an_invalid_rrule_raises_regle_invalide_with_a_french_message(
    regle: str, pourquoi: str
) -> None:
    with pytest.raises(RegleInvalide) as error:
        libres([plage(rrule=regle)])
    assert pourquoi in str(error.value)
    assert isinstance(error.value, ValueError)
    with pytest.raises(RegleInvalide):
        verifier_regle(regle)


@pytest.mark.parametrize(
    ("regle", "pourquoi"),
    [
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "BYMONTHDAY=30 n'existe dans aucun des mois"),
        ("FREQ=WEEKLY;BYMONTH=4,6;BYMONTHDAY=-31", "BYMONTHDAY=-31 n'existe"),
        ("FREQ=DAILY;INTERVAL=14;BYDAY=MO", "tous les 7n jours tombent le même jour"),
        ("FREQ=WEEKLY;BYDAY=1MO", "demande FREQ=MONTHLY ou YEARLY"),
        ("FREQ=MONTHLY;BYDAY=6MO", "rang de BYDAY hors de 1 à 5"),
        ("FREQ=MONTHLY;BYDAY=1MO;BYMONTHDAY=20", "ou avec BYMONTHDAY"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=5", "BYSETPOS au-delà des 4 jours"),
        ("FREQ=YEARLY;BYDAY=MO;BYSETPOS=1", "BYSETPOS ne va qu'avec"),
    ],
)
def test_a_rule_that_never_happens_is_refused_instead_of_searched_until_year_9999(
    regle: str, pourquoi: str
) -> None:
    with pytest.raises(RegleInvalide, match=pourquoi):
        verifier_regle(regle)


@pytest.mark.parametrize(
    "regle",
    [
        "FREQ=DAILY;INTERVAL=2",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU,TH;UNTIL=20261231T225959Z",
        "FREQ=WEEKLY;BYDAY=MO;BYMONTH=7,8",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
        "freq=weekly;byday=we",
    ],
)
def test_the_rules_an_admin_needs_are_accepted(regle: str) -> None:
    verifier_regle(regle)


def test_a_monthly_plage_on_the_last_friday_happens_on_the_last_friday() -> None:
    dernier_vendredi = plage(rrule="FREQ=MONTHLY;BYDAY=-1FR", premier_jour=date(2025, 1, 1))

    creneaux = libres([dernier_vendredi], debut="2026-03-01T00:00", fin="2026-05-01T00:00")

    assert jours(creneaux) == [date(2026, 3, 27), date(2026, 4, 24)]


def test_an_invalid_rrule_of_an_absence_raises_regle_invalide_too() -> None:
    absence = Absence(1, local("2026-03-02T10:00"), local("2026-03-02T11:00"), "FREQ=SOMETIMES")

    with pytest.raises(RegleInvalide):
        libres([plage()], absences=[absence])


def test_naive_datetimes_and_non_positive_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="sans fuseau"):
        creneaux_libres(
            [plage()],
            [],
            [],
            {},
            MOTIF_30,
            datetime(2026, 3, 2),
            local("2026-03-03T00:00"),
            local("2026-01-01T00:00"),
            PARIS,
        )
    with pytest.raises(ValueError, match="occupation : date et heure sans fuseau"):
        libres(
            [plage()],
            occupations=[Occupation(1, datetime(2026, 3, 2, 9), datetime(2026, 3, 2, 10))],
        )
    with pytest.raises(ValueError, match="durée"):
        libres([plage()], motif=motif(0))


# --- Several plages, agents and sites -----------------------------------------------------------


def test_overlapping_plages_of_one_agent_at_one_site_give_each_creneau_once() -> None:
    matin = plage(id=7)
    meme_matin_autre_saisie = plage(id=3, heures=("10:00", "13:00"))

    creneaux = libres([matin, meme_matin_autre_saisie])

    assert heures(creneaux) == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
        "12:00",
        "12:30",
    ]
    assert [c.plage_id for c in creneaux] == [7, 7, 3, 3, 3, 3, 3, 3]


def test_one_agent_at_two_sites_at_overlapping_times_is_offered_at_both() -> None:
    # The booking service's database constraint refuses the second booking.
    creneaux = libres([plage(), plage(id=2, site_id=2)])

    assert [(h, c.site_id) for h, c in zip(heures(creneaux), creneaux, strict=True)][:4] == [
        ("09:00", 1),
        ("09:00", 2),
        ("09:30", 1),
        ("09:30", 2),
    ]


def test_creneaux_are_sorted_by_start_then_site_then_agent() -> None:
    plages = [
        plage(id=1, agent_id=2, site_id=2),
        plage(id=2, agent_id=1, site_id=2),
        plage(id=3, agent_id=3, site_id=1, heures=("09:30", "12:00")),
    ]

    creneaux = libres(plages)

    cles = [(c.debut, c.site_id, c.agent_id) for c in creneaux]
    assert cles == sorted(cles)
    assert [(c.site_id, c.agent_id) for c in creneaux[:5]] == [
        (2, 1),
        (2, 2),
        (1, 3),
        (2, 1),
        (2, 2),
    ]


def test_prochain_creneau_par_site_gives_the_first_free_creneau_of_each_site() -> None:
    plages = [
        plage(id=1, site_id=1, rrule="FREQ=WEEKLY;BYDAY=TU"),
        plage(id=2, site_id=2, agent_id=2, heures=("14:00", "15:00")),
        plage(id=3, site_id=3, agent_id=3),
    ]
    occupations = [Occupation(2, local("2026-03-02T14:00"), local("2026-03-02T14:30"))]
    fermes = {3: {date(2026, 3, 2)}}

    prochains = prochain_creneau_par_site(
        plages,
        [],
        occupations,
        fermes,
        MOTIF_30,
        local("2026-03-02T00:00"),
        local("2026-03-20T00:00"),
        local("2026-03-01T00:00"),
        PARIS,
    )

    assert list(prochains) == [1, 2, 3]
    assert prochains[1].debut == local("2026-03-03T09:00")
    assert prochains[2].debut == local("2026-03-02T14:30")
    assert prochains[3].debut == local("2026-03-09T09:00")


def test_prochain_creneau_par_site_looks_past_an_earlier_plage_that_is_full_for_longer() -> None:
    matin = plage(id=1, agent_id=1, heures=("09:00", "12:00"))
    plus_tard = plage(id=2, agent_id=2, heures=("10:00", "12:00"))
    occupe = [Occupation(1, local("2026-03-02T09:00"), local("2026-03-02T11:00"))]

    prochains = prochain_creneau_par_site(
        [matin, plus_tard],
        [],
        occupe,
        {},
        MOTIF_30,
        local("2026-03-02T00:00"),
        local("2026-03-20T00:00"),
        local("2026-03-01T00:00"),
        PARIS,
    )

    assert prochains == {1: Creneau(local("2026-03-02T10:00"), local("2026-03-02T10:30"), 2, 1, 2)}


def test_prochain_creneau_par_site_leaves_out_a_site_without_any_free_creneau() -> None:
    plein = [Occupation(1, local("2026-03-02T09:00"), local("2026-03-02T12:00"))]

    prochains = prochain_creneau_par_site(
        [plage(rrule=None)],
        [],
        plein,
        {},
        MOTIF_30,
        local("2026-03-02T00:00"),
        local("2026-03-20T00:00"),
        local("2026-03-01T00:00"),
        PARIS,
    )

    assert prochains == {}


# --- Properties ---------------------------------------------------------------------------------

FUSEAUX = ("Europe/Paris", "Indian/Reunion", "America/Guadeloupe")
REGLES_PLAGES = (
    None,
    "FREQ=DAILY",
    "FREQ=DAILY",
    "FREQ=DAILY;INTERVAL=3",
    "FREQ=WEEKLY",
    "FREQ=WEEKLY;BYDAY=MO,WE,FR",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU",
    "FREQ=WEEKLY;INTERVAL=3;BYDAY=SA;WKST=SU",
    "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=40",
    "FREQ=WEEKLY;BYDAY=SA,SU;UNTIL=20260901T000000",
    "FREQ=MONTHLY;BYDAY=1SA,-1WE",
)
REGLES_ABSENCES = (None, None, "FREQ=DAILY", "FREQ=WEEKLY;BYDAY=WE", "FREQ=WEEKLY;INTERVAL=2")
# Around both daylight-saving changes of 2026 in Europe, and in between.
BASES = (date(2026, 3, 26), date(2026, 6, 15), date(2026, 10, 22))
LOIN = (datetime(2023, 1, 1), datetime(2027, 1, 1))


@dataclass(frozen=True)
class Scenario:
    """One search: the arguments of creneaux_libres, in its order."""

    plages: list[PlageOuverture]
    absences: list[Absence]
    occupations: list[Occupation]
    jours_fermes: dict[int, set[date]]
    motif: MotifRegles
    debut: datetime
    fin: datetime
    maintenant: datetime
    fuseau: str

    def creneaux(self) -> list[Creneau]:
        return creneaux_libres(*astuple_shallow(self))

    def prochains(self) -> dict[int, Creneau]:
        return prochain_creneau_par_site(*astuple_shallow(self))


def astuple_shallow(scenario: Scenario) -> tuple[Any, ...]:
    return tuple(getattr(scenario, f.name) for f in fields(scenario))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Small territories biased towards searches that find something."""
    fuseau = draw(st.sampled_from(FUSEAUX))
    zone = ZoneInfo(fuseau)
    base = datetime.combine(draw(st.sampled_from(BASES)), time(), zone)

    def rarement() -> bool:
        return draw(st.integers(0, 4)) == 0

    def minutes(au_moins: int, au_plus: int) -> timedelta:
        return draw(st.integers(au_moins, au_plus)) * MINUTE

    def instant(apres_minutes: int, avant_minutes: int) -> datetime:
        instant = base + minutes(apres_minutes, avant_minutes)
        return instant.astimezone(draw(st.sampled_from((UTC, zone))))

    plages: list[PlageOuverture] = []
    for id in range(draw(st.integers(1, 6))):
        # Mostly office hours; sometimes at night, across the DST gap or fold.
        ouverture = draw(st.integers(0, 23 * 12) if rarement() else st.integers(7 * 12, 17 * 12))
        longueur = draw(st.integers(1, 24) if rarement() else st.integers(24, 100))
        # Minutes of the day, on a five-minute step.
        debut, fin = ouverture * 5, min((ouverture + longueur) * 5, 1439)
        plages.append(
            PlageOuverture(
                id=id + 1,
                agent_id=draw(st.integers(1, 3)),
                site_id=draw(st.sampled_from((10, 11))),
                motif_ids=frozenset(draw(st.sets(st.sampled_from((1, 1, 2)), min_size=1))),
                heure_debut=time(debut // 60, debut % 60),
                heure_fin=time(fin // 60, fin % 60),
                premier_jour=base.date()
                + timedelta(days=draw(st.integers(-900 if rarement() else -60, 3))),
                rrule=draw(st.sampled_from(REGLES_PLAGES)),
                fin=draw(st.dates(base.date(), base.date() + timedelta(days=8)))
                if rarement()
                else None,
            )
        )
    occupations = []
    for _ in range(draw(st.integers(0, 25))):
        rdv = instant(-2 * 1440, 10 * 1440)
        occupations.append(Occupation(draw(st.integers(1, 3)), rdv, rdv + minutes(1, 150)))
    absences = []
    for _ in range(draw(st.integers(0, 2))):
        depart = instant(-30 * 1440, 10 * 1440)
        duree = minutes(600, 3 * 1440) if rarement() else minutes(10, 600)
        regle = draw(st.sampled_from(REGLES_ABSENCES))
        absences.append(Absence(draw(st.integers(1, 3)), depart, depart + duree, regle))
    fermes = draw(st.sets(st.integers(-1, 10), max_size=2))
    motif = MotifRegles(
        id=1,
        duree=minutes(5, 90),
        delai_min=minutes(0, 6 * 60) if rarement() else timedelta(0),
        delai_max=minutes(1, 3 * 1440) if rarement() else minutes(3 * 1440, 20 * 1440),
        accoler=draw(st.booleans()),
    )
    recherche = instant(-1440, 3 * 1440)
    return Scenario(
        plages=plages,
        absences=absences,
        occupations=occupations,
        jours_fermes={10: {base.date() + timedelta(days=n) for n in fermes}},
        motif=motif,
        debut=recherche,
        fin=recherche + minutes(1440, 8 * 1440),
        maintenant=recherche + minutes(-2 * 1440, 12 * 60),
        fuseau=fuseau,
    )


def reference_occurrences(
    plage: PlageOuverture, fuseau: str, entre: tuple[datetime, datetime] = LOIN
) -> list[tuple[datetime, datetime, date]]:
    """Straight from dateutil, from the first day on, without the engine's shortcuts."""
    zone = ZoneInfo(fuseau)
    if plage.rrule is None:
        days = [plage.premier_jour]
    else:
        regle = rrulestr(
            plage.rrule, dtstart=datetime.combine(plage.premier_jour, plage.heure_debut)
        )
        days = [o.date() for o in regle.between(*entre, inc=True)]
    result = []
    for day in days:
        start = datetime.combine(day, plage.heure_debut, zone).astimezone(UTC)
        end = datetime.combine(day, plage.heure_fin, zone).astimezone(UTC)
        if start < end and (plage.fin is None or day <= plage.fin):
            result.append((start, end, day))
    return result


def reference_busy(agent_id: int, scenario: Scenario) -> list[tuple[datetime, datetime]]:
    zone = ZoneInfo(scenario.fuseau)
    busy = [(o.debut, o.fin) for o in scenario.occupations if o.agent_id == agent_id]
    for absence in scenario.absences:
        if absence.agent_id != agent_id:
            continue
        if absence.rrule is None:
            busy.append((absence.debut, absence.fin))
            continue
        debut = absence.debut.astimezone(zone).replace(tzinfo=None)
        duree = absence.fin.astimezone(zone).replace(tzinfo=None) - debut
        for start in rrulestr(absence.rrule, dtstart=debut).between(*LOIN, inc=True):
            busy.append((start.replace(tzinfo=zone), (start + duree).replace(tzinfo=zone)))
    return busy


def reference(scenario: Scenario) -> set[tuple[datetime, int, int]]:
    """The rules read literally: every occurrence, every position, every busy interval."""
    motif, maintenant = scenario.motif, scenario.maintenant
    duree = motif.duree
    expected = set()
    for plage in scenario.plages:
        if motif.id not in plage.motif_ids:
            continue
        busy = reference_busy(plage.agent_id, scenario)
        for start, end, day in reference_occurrences(plage, scenario.fuseau):
            # An occurrence outside the window has nothing to offer in it.
            if (
                day in scenario.jours_fermes.get(plage.site_id, ())
                or end <= scenario.debut
                or start >= scenario.fin
            ):
                continue
            position = start
            while position + duree <= end:
                overlapping = [b for b in busy if b[0] < position + duree and b[1] > position]
                if motif.accoler and overlapping:
                    position = max(b[1] for b in overlapping)
                    continue
                if (
                    not overlapping
                    and scenario.debut <= position
                    and position + duree <= scenario.fin
                    and maintenant <= position
                    and maintenant + motif.delai_min <= position <= maintenant + motif.delai_max
                ):
                    expected.add((position, plage.site_id, plage.agent_id))
                position += duree
    return expected


PROPRIETES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPRIETES
@given(scenarios())
def test_no_creneau_overlaps_a_busy_interval_of_its_agent(scenario: Scenario) -> None:
    for creneau in scenario.creneaux():
        for start, end in reference_busy(creneau.agent_id, scenario):
            assert not (start < creneau.fin and end > creneau.debut), (creneau, start, end)


@PROPRIETES
@given(scenarios())
def test_every_creneau_lies_in_an_open_occurrence_of_a_plage_of_its_agent_and_site_offering_the_motif(
    scenario: Scenario,
) -> None:
    motif = scenario.motif
    for creneau in scenario.creneaux():
        assert creneau.fin - creneau.debut == motif.duree
        (plage,) = [p for p in scenario.plages if p.id == creneau.plage_id]
        assert (plage.agent_id, plage.site_id) == (creneau.agent_id, creneau.site_id)
        assert motif.id in plage.motif_ids
        containing = [
            (start, day)
            for start, end, day in reference_occurrences(plage, scenario.fuseau)
            if start <= creneau.debut and creneau.fin <= end
        ]
        assert containing, creneau
        assert all(day not in scenario.jours_fermes.get(plage.site_id, ()) for _, day in containing)
        if not motif.accoler:
            assert any(
                (creneau.debut - start) % motif.duree == timedelta(0) for start, _ in containing
            )


@PROPRIETES
@given(scenarios())
def test_every_creneau_is_within_the_window_and_the_booking_delays_sorted_and_unique(
    scenario: Scenario,
) -> None:
    motif, maintenant = scenario.motif, scenario.maintenant
    creneaux = scenario.creneaux()
    for creneau in creneaux:
        assert creneau.debut.tzinfo is UTC
        assert scenario.debut <= creneau.debut and creneau.fin <= scenario.fin
        assert maintenant <= creneau.debut
        assert maintenant + motif.delai_min <= creneau.debut <= maintenant + motif.delai_max
    cles = [(c.debut, c.site_id, c.agent_id) for c in creneaux]
    assert cles == sorted(set(cles))


@PROPRIETES
@given(scenarios())
def test_the_engine_offers_exactly_the_creneaux_of_the_literal_reading_of_the_rules(
    scenario: Scenario,
) -> None:
    assert {(c.debut, c.site_id, c.agent_id) for c in scenario.creneaux()} == reference(scenario)


@PROPRIETES
@given(scenarios())
def test_prochain_creneau_par_site_is_the_first_creneau_of_each_site(scenario: Scenario) -> None:
    premiers: dict[int, Creneau] = {}
    for creneau in scenario.creneaux():
        premiers.setdefault(creneau.site_id, creneau)

    assert scenario.prochains() == dict(sorted(premiers.items()))


@PROPRIETES
@given(scenarios(), st.integers(0, 999_999), st.integers(0, 999_999))
def test_occupations_as_epoch_seconds_give_what_occupation_objects_give(
    scenario: Scenario, debut_us: int, fin_us: int
) -> None:
    # Bounds off the second too: the engine compares the seconds with them.
    scenario = replace(
        scenario,
        debut=scenario.debut + debut_us * MICROSECONDE,
        fin=scenario.fin + fin_us * MICROSECONDE,
    )
    par_agent: dict[int, list[int]] = {}
    for o in scenario.occupations:
        par_agent.setdefault(o.agent_id, []).extend(
            (en_us(o.debut) // 1_000_000, en_us(o.fin) // 1_000_000)
        )
    secondes = Occupations(par_agent)
    en_secondes = replace(scenario, occupations=secondes)  # type: ignore[arg-type]
    assert len(secondes) == len(scenario.occupations)
    assert en_secondes.creneaux() == scenario.creneaux()
    assert en_secondes.prochains() == scenario.prochains()


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([r for r in REGLES_PLAGES if r is not None]),
    st.dates(date(2015, 1, 1), date(2026, 12, 31)),
    st.dates(date(2024, 1, 1), date(2026, 12, 31)),
    st.sampled_from(FUSEAUX),
)
def test_expanding_from_a_later_start_gives_the_occurrences_of_the_first_day(
    regle: str, premier_jour: date, jour: date, fuseau: str
) -> None:
    une_plage = plage(premier_jour=premier_jour, rrule=regle, heures=("08:30", "10:00"))
    apres = datetime.combine(jour, time(), ZoneInfo(fuseau))
    avant = apres + timedelta(days=40)
    autour = (
        apres.replace(tzinfo=None) - timedelta(days=3),
        avant.replace(tzinfo=None) + timedelta(days=3),
    )

    engine = occurrences_plage(une_plage, fuseau, en_us(apres), en_us(avant))

    assert [(EPOCH + s * MICROSECONDE, EPOCH + e * MICROSECONDE, d) for s, e, d in engine] == [
        o for o in reference_occurrences(une_plage, fuseau, autour) if o[0] < avant and o[1] > apres
    ]

"""Opening hours: parsing, the coming days of a site, local intervals as UTC instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from sites.services.horaires import (
    Horaires,
    HorairesIllisibles,
    horaires_to_json,
    intervalles_utc,
    parse_horaires,
    semaine,
)

SEMAINE_TYPE = {
    "lundi": [["08:30", "12:00"], ["13:30", "17:00"]],
    "mercredi": [["09:00", "12:00"]],
    "dimanche": [["09:00", "12:00"]],
}


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ('{"lundi": [["08:30", "12:00"]', "JSON illisible"),
        ('[["08:30", "12:00"]]', "un objet"),
        ({"monday": [["08:30", "12:00"]]}, "jour inconnu"),
        ({"lundi": "08:30-12:00"}, "une liste de plages"),
        ({"lundi": [["08:30"]]}, "[début, fin]"),
        ({"lundi": [["8h30", "12:00"]]}, "heure « 8h30 » invalide"),
        ({"lundi": [["24:00", "12:00"]]}, "invalide"),
        ({"lundi": [["08:30\n", "12:00"]]}, "invalide"),
        ({"lundi": [["12:00", "08:30"]]}, "finit avant de commencer"),
        ({"lundi": [["12:00", "12:00"]]}, "finit avant de commencer"),
        ({"lundi": [["08:30", "12:00"], ["11:00", "14:00"]]}, "se chevauchent"),
    ],
)
def test_parse_horaires_refuses_anything_but_the_documented_format(raw: object, why: str) -> None:
    with pytest.raises(HorairesIllisibles) as error:
        parse_horaires(raw)  # type: ignore[arg-type]
    assert why in str(error.value)


def test_parse_horaires_reads_empty_values_as_unknown_and_sorts_each_day() -> None:
    assert parse_horaires(None) is None
    assert parse_horaires("  ") is None
    parsed = parse_horaires({"mardi": [["14:00", "17:00"], ["08:30", "12:00"]]})
    assert parsed == {"mardi": [(time(8, 30), time(12)), (time(14), time(17))]}
    assert horaires_to_json(parsed) == {"mardi": [["08:30", "12:00"], ["14:00", "17:00"]]}


def test_semaine_gives_each_day_its_intervals_and_the_closed_days_without_reason() -> None:
    days = semaine(parse_horaires(SEMAINE_TYPE), [], {}, date(2026, 6, 1))  # a Monday

    assert [d.date for d in days] == [date(2026, 6, day) for day in range(1, 8)]
    assert [d.jour for d in days] == [
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
        "samedi",
        "dimanche",
    ]
    assert days[0].ouvert is True
    assert days[0].plages == ((time(8, 30), time(12)), (time(13, 30), time(17)))
    assert days[0].raison is None
    assert (days[1].ouvert, days[1].plages, days[1].raison) == (False, (), None)
    assert [d.ouvert for d in days] == [True, False, True, False, False, False, True]


def test_semaine_closes_the_days_of_a_closure_with_its_motif_first_and_last_day_included() -> None:
    fermetures = [(date(2026, 6, 3), date(2026, 6, 7), "inventaire")]

    days = semaine(parse_horaires(SEMAINE_TYPE), fermetures, {}, date(2026, 6, 1))

    assert days[0].ouvert is True
    for day in days[2:]:
        assert (day.ouvert, day.plages, day.raison) == (False, (), "Fermé : inventaire")


def test_semaine_says_just_ferme_for_a_closure_without_motif() -> None:
    days = semaine(
        parse_horaires(SEMAINE_TYPE),
        [(date(2026, 6, 1), date(2026, 6, 1), " ")],
        {},
        date(2026, 6, 1),
        1,
    )

    assert (days[0].ouvert, days[0].raison) == (False, "Fermé")


def test_semaine_closes_a_public_holiday_even_on_an_opening_day() -> None:
    horaires = parse_horaires({"vendredi": [["09:00", "12:00"]]})
    fermetures = [(date(2026, 12, 21), date(2027, 1, 2), "congés")]

    days = semaine(horaires, fermetures, {date(2026, 12, 25): "Noël"}, date(2026, 12, 25), 1)

    assert (days[0].jour, days[0].ouvert, days[0].raison) == (
        "vendredi",
        False,
        "Jour férié : Noël",
    )


def test_semaine_never_says_closed_when_the_hours_are_not_known() -> None:
    unknown: list[Horaires | None] = [None, {}]
    for horaires in unknown:
        days = semaine(horaires, [], {}, date(2026, 6, 1))

        assert all(d.ouvert is None for d in days)
        assert all(d.raison == "Horaires non communiqués" for d in days)


def test_semaine_applies_closures_and_holidays_even_when_the_hours_are_not_known() -> None:
    fermetures = [(date(2026, 6, 2), date(2026, 6, 2), "travaux")]

    days = semaine(None, fermetures, {date(2026, 6, 3): "Fête"}, date(2026, 6, 1), 3)

    assert [(d.ouvert, d.raison) for d in days] == [
        (None, "Horaires non communiqués"),
        (False, "Fermé : travaux"),
        (False, "Jour férié : Fête"),
    ]


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_intervalles_utc_keeps_nine_o_clock_local_across_both_daylight_saving_changes() -> None:
    horaires = parse_horaires({"dimanche": [["09:00", "12:00"]], "samedi": [["09:00", "12:00"]]})

    before_spring = intervalles_utc(date(2026, 3, 28), horaires, "Europe/Paris")
    spring = intervalles_utc(date(2026, 3, 29), horaires, "Europe/Paris")
    autumn = intervalles_utc(date(2026, 10, 25), horaires, "Europe/Paris")

    assert before_spring == [(_utc(2026, 3, 28, 8), _utc(2026, 3, 28, 11))]
    assert spring == [(_utc(2026, 3, 29, 7), _utc(2026, 3, 29, 10))]
    assert autumn == [(_utc(2026, 10, 25, 8), _utc(2026, 10, 25, 11))]
    assert all(start.tzinfo is UTC for start, _ in spring + autumn)


def test_intervalles_utc_has_no_daylight_saving_in_reunion() -> None:
    horaires = parse_horaires({"dimanche": [["09:00", "12:00"]]})

    for day in (date(2026, 3, 29), date(2026, 10, 25)):
        assert intervalles_utc(day, horaires, "Indian/Reunion") == [
            (_utc(day.year, day.month, day.day, 5), _utc(day.year, day.month, day.day, 8))
        ]


def test_intervalles_utc_gives_a_nonexistent_local_time_the_offset_before_the_change() -> None:
    horaires = parse_horaires({"dimanche": [["02:30", "04:00"], ["02:00", "02:15"]]})

    # 02:30 does not exist on 2026-03-29 in Paris: fold=0 reads it as UTC+1,
    # that is 01:30Z (03:30 local). 02:00-02:15 is all inside the skipped hour,
    # and 02:15 (01:15Z) still comes after 02:00 (01:00Z) so it is kept as is.
    assert intervalles_utc(date(2026, 3, 29), horaires, "Europe/Paris") == [
        (_utc(2026, 3, 29, 1), _utc(2026, 3, 29, 1, 15)),
        (_utc(2026, 3, 29, 1, 30), _utc(2026, 3, 29, 2)),
    ]


def test_intervalles_utc_drops_an_interval_that_the_spring_change_leaves_empty() -> None:
    horaires = parse_horaires({"dimanche": [["02:30", "03:00"]]})

    # 02:30 (fold=0) is 01:30Z, 03:00 CEST is 01:00Z: nothing left.
    assert intervalles_utc(date(2026, 3, 29), horaires, "Europe/Paris") == []


def test_intervalles_utc_takes_the_first_of_a_repeated_local_time() -> None:
    horaires = parse_horaires({"dimanche": [["02:30", "03:30"]]})

    assert intervalles_utc(date(2026, 10, 25), horaires, "Europe/Paris") == [
        (_utc(2026, 10, 25, 0, 30), _utc(2026, 10, 25, 2, 30))
    ]


def test_intervalles_utc_is_empty_on_a_closed_weekday_or_unknown_hours() -> None:
    horaires = parse_horaires({"lundi": [["09:00", "12:00"]]})

    assert intervalles_utc(date(2026, 6, 2), horaires, "Europe/Paris") == []
    assert intervalles_utc(date(2026, 6, 1), None, "Europe/Paris") == []

"""French public holidays per département, Alsace-Moselle and overseas included."""

from __future__ import annotations

from datetime import date

import pytest

from sites.services.jours_feries import jours_feries

VENDREDI_SAINT = date(2026, 4, 3)
SAINT_ETIENNE = date(2026, 12, 26)


def test_metropolitan_france_has_the_eleven_holidays_with_french_names() -> None:
    feries = jours_feries("31", [2026])

    assert len(feries) == 11
    assert feries[date(2026, 12, 25)] == "Noël"
    assert feries[date(2026, 7, 14)] == "Fête nationale"
    assert feries[date(2026, 5, 25)] == "Lundi de Pentecôte"


@pytest.mark.parametrize("departement", ["57", "67", "68"])
def test_alsace_moselle_adds_good_friday_and_26_december(departement: str) -> None:
    feries = jours_feries(departement, [2026])

    assert feries[VENDREDI_SAINT] == "Vendredi saint"
    assert feries[SAINT_ETIENNE] == "Saint-Étienne"


@pytest.mark.parametrize("departement", ["31", "75", "2A", "59"])
def test_elsewhere_in_metropolitan_france_good_friday_and_26_december_are_worked(
    departement: str,
) -> None:
    feries = jours_feries(departement, [2026])

    assert VENDREDI_SAINT not in feries
    assert SAINT_ETIENNE not in feries


@pytest.mark.parametrize(
    ("departement", "jour"),
    [
        ("971", date(2026, 5, 27)),  # Guadeloupe
        ("972", date(2026, 5, 22)),  # Martinique
        ("973", date(2026, 6, 10)),  # Guyane
        ("974", date(2026, 12, 20)),  # La Réunion
        ("976", date(2026, 4, 27)),  # Mayotte
    ],
)
def test_each_overseas_departement_has_its_own_abolition_of_slavery_day(
    departement: str, jour: date
) -> None:
    assert jours_feries(departement, [2026])[jour] == "Abolition de l'esclavage"
    assert jour not in jours_feries("31", [2026])


def test_guadeloupe_and_martinique_also_celebrate_victor_schoelcher() -> None:
    for departement in ("971", "972"):
        assert jours_feries(departement, [2026])[date(2026, 7, 21)] == "Fête de Victor Schoelcher"


def test_several_years_are_merged_for_a_week_that_spans_new_year() -> None:
    feries = jours_feries("974", [2026, 2027, 2026])

    assert feries[date(2026, 12, 20)] == "Abolition de l'esclavage"
    assert feries[date(2027, 1, 1)] == "Jour de l'an"
    assert feries[date(2027, 12, 20)] == "Abolition de l'esclavage"


def test_changing_an_answer_does_not_change_the_cached_calendar() -> None:
    jours_feries("31", [2026]).clear()

    assert date(2026, 12, 25) in jours_feries("31", [2026])

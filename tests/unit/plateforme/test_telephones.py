"""Mobile numbers are recognised in the forms people type them, and refused with a reason otherwise."""

from __future__ import annotations

import pytest

from plateforme.errors import Invalid
from plateforme.telephones import affichage, mobile_e164


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("07.81.23.45.67", "+33781234567"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("0692 12 34 56", "+262692123456"),  # La Réunion
        ("0693 45 67 89", "+262693456789"),  # La Réunion
        ("0639 01 23 45", "+262639012345"),  # Mayotte
        ("0690 12 34 56", "+590690123456"),  # Guadeloupe
        ("0696 12 34 56", "+596696123456"),  # Martinique
        ("0694 12 34 56", "+594694123456"),  # Guyane
        ("+44 7911 123456", "+447911123456"),
    ],
)
def test_mobile_numbers_are_stored_in_e164(typed: str, e164: str) -> None:
    assert mobile_e164(typed) == e164


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("05 61 00 00 00", "portable"),  # a landline in Toulouse
        ("01 44 55 66 77", "portable"),
        ("06 12 34", "pas valide"),
        ("447911123456", "commencez par +"),
        ("bonjour", "pas valide"),
        ("", "obligatoire"),
    ],
)
def test_other_numbers_are_refused_with_a_reason(typed: str, message: str) -> None:
    with pytest.raises(Invalid) as refused:
        mobile_e164(typed)
    assert message in refused.value.fields["telephone"]


def test_numbers_are_shown_as_people_write_them() -> None:
    assert affichage("+33612345678") == "06 12 34 56 78"
    assert affichage("+262692123456") == "0692 12 34 56"

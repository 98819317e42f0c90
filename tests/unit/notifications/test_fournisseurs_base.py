"""The helpers every provider shares: masking, secrets, Retry-After, numbers, dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifications.fournisseurs.base import (
    date_fournisseur,
    lire_retry_after,
    masquer,
    secret_valide,
    telephone_e164,
)


@pytest.mark.parametrize(
    ("destinataire", "masque"),
    [("+33612345678", "+336…78"), ("jeanne@example.org", "j…@example.org"), ("12", "…")],
)
def test_logs_see_only_the_start_and_end_of_a_number_or_address(
    destinataire: str, masque: str
) -> None:
    assert masquer(destinataire) == masque


def test_a_secret_matches_only_itself_and_an_empty_expected_secret_matches_nothing() -> None:
    assert secret_valide("abc", "abc")
    assert not secret_valide("abd", "abc")
    assert not secret_valide(None, "abc")
    assert not secret_valide("", "")
    assert secret_valide("é", "é")


def test_retry_after_reads_seconds_and_http_dates() -> None:
    maintenant = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    assert lire_retry_after("120") == 120
    assert lire_retry_after("-5") == 0
    assert lire_retry_after("Tue, 03 Mar 2026 09:01:30 GMT", maintenant=maintenant) == 90
    assert lire_retry_after("Tue, 03 Mar 2026 08:00:00 GMT", maintenant=maintenant) == 0
    assert lire_retry_after("bientôt") is None
    assert lire_retry_after(None) is None


@pytest.mark.parametrize(
    ("brut", "e164"),
    [
        ("33612345678", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("0692123456", "+262692123456"),
        ("262692123456", "+262692123456"),
        ("4915123456789", "+4915123456789"),
        ("12", None),
        ("pas un numéro", None),
    ],
)
def test_provider_numbers_become_e164(brut: str, e164: str | None) -> None:
    assert telephone_e164(brut) == e164


def test_provider_dates_become_utc_instants() -> None:
    assert date_fournisseur("2026-03-03T10:00:00+01:00") == datetime(2026, 3, 3, 9, tzinfo=UTC)
    assert date_fournisseur("2026-07-03 10:00:00") == datetime(2026, 7, 3, 8, tzinfo=UTC)
    assert date_fournisseur(1772528400) == datetime(2026, 3, 3, 9, tzinfo=UTC)
    assert date_fournisseur(1772528400000) == datetime(2026, 3, 3, 9, tzinfo=UTC)
    for illisible in ("hier", None, "", True, [1]):
        assert date_fournisseur(illisible) is None

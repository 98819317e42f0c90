"""The outbox's backoff: doubling from 30 s to an hour, with jitter; the provider's
Retry-After wins."""

from __future__ import annotations

import pytest

from notifications.services.envoi import BACKOFF_BASE, BACKOFF_MAX, backoff


@pytest.mark.parametrize(
    ("tentatives", "attendu"), [(1, 30), (2, 60), (3, 120), (8, 3600), (20, 3600)]
)
def test_doubling_up_to_an_hour_with_twenty_percent_jitter(tentatives: int, attendu: float) -> None:
    delais = [backoff(tentatives) for _ in range(200)]
    assert all(0.8 * attendu <= d <= 1.2 * attendu for d in delais)
    # Jitter: workers coming back together do not all retry at the same instant.
    assert len({round(d, 3) for d in delais}) > 100


def test_retry_after_wins_within_the_maximum() -> None:
    assert backoff(1, retry_after=12) == 12
    assert backoff(5, retry_after=0) == 0
    assert backoff(1, retry_after=10 * BACKOFF_MAX) == BACKOFF_MAX
    assert BACKOFF_BASE == 30

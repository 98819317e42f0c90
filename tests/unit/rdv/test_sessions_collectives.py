"""Collective sessions in the slot engine: which ones the public may join, with how many seats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from rdv.creneaux import MotifRegles, Session, premier_par_site, sessions_ouvertes

PARIS = ZoneInfo("Europe/Paris")
ATELIER = MotifRegles(7, timedelta(hours=2), timedelta(hours=2), timedelta(days=30))
MAINTENANT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 in Paris
SEMAINE = (MAINTENANT, MAINTENANT + timedelta(days=7))


def session(
    rdv_id: int,
    debut: str,
    *,
    capacite: int = 8,
    inscrits: int = 0,
    site_id: int = 1,
    agent_id: int = 1,
) -> Session:
    start = datetime.fromisoformat(debut).replace(tzinfo=PARIS)
    return Session(rdv_id, agent_id, site_id, start, start + timedelta(hours=2), capacite, inscrits)


def ouvertes(*sessions: Session) -> list[tuple[str, int, int | None]]:
    return [
        (c.debut.astimezone(PARIS).strftime("%a %H:%M"), c.site_id, c.places)
        for c in sessions_ouvertes(sessions, ATELIER, *SEMAINE, MAINTENANT)
    ]


def test_a_session_with_seats_left_is_a_creneau_with_its_number_of_seats() -> None:
    offered = sessions_ouvertes(
        [session(1, "2026-03-03T14:00", capacite=8, inscrits=5)], ATELIER, *SEMAINE, MAINTENANT
    )
    assert len(offered) == 1
    creneau = offered[0]
    assert creneau.places == 3 and creneau.plage_id == 0 and creneau.agent_id == 1
    assert creneau.debut == datetime(2026, 3, 3, 13, 0, tzinfo=UTC)
    assert creneau.fin - creneau.debut == timedelta(hours=2)


def test_a_full_session_is_not_offered() -> None:
    assert ouvertes(session(1, "2026-03-03T14:00", capacite=3, inscrits=3)) == []
    # More participants than seats (a capacity lowered since) is full, not negative.
    assert ouvertes(session(2, "2026-03-03T16:00", capacite=3, inscrits=4)) == []


def test_sessions_outside_the_booking_window_or_the_search_are_not_offered() -> None:
    too_soon = session(1, "2026-03-02T10:30")  # 1 h 30 from now, the motif wants 2 h
    just_in_time = session(2, "2026-03-02T11:00")
    next_month = session(3, "2026-04-02T14:00")  # beyond 30 days
    after_the_week = session(4, "2026-03-09T14:00")
    assert ouvertes(too_soon, just_in_time, next_month, after_the_week) == [("Mon 11:00", 1, 8)]


def test_sessions_at_one_start_and_site_add_their_seats_and_sort_by_start_then_site() -> None:
    offered = sessions_ouvertes(
        [
            session(5, "2026-03-04T09:00", site_id=2),
            session(4, "2026-03-03T14:00", capacite=10, inscrits=9, agent_id=9),
            session(3, "2026-03-03T14:00", capacite=6, inscrits=2, agent_id=8),
            session(6, "2026-03-03T14:00", site_id=2, capacite=4, inscrits=4),
        ],
        ATELIER,
        *SEMAINE,
        MAINTENANT,
    )
    assert [(c.site_id, c.places, c.agent_id) for c in offered] == [(1, 5, 8), (2, 8, 1)]


def test_the_first_session_of_each_site_is_its_next_availability() -> None:
    offered = sessions_ouvertes(
        [
            session(1, "2026-03-05T14:00", site_id=3),
            session(2, "2026-03-03T09:00", site_id=3, capacite=2, inscrits=2),
            session(3, "2026-03-04T09:00", site_id=3),
            session(4, "2026-03-06T09:00", site_id=1),
        ],
        ATELIER,
        *SEMAINE,
        MAINTENANT,
    )
    premiers = premier_par_site(offered)
    assert list(premiers) == [1, 3]
    assert premiers[3].debut.astimezone(PARIS).strftime("%a %H:%M") == "Wed 09:00"


def test_a_naive_session_start_is_refused() -> None:
    naive = Session(1, 1, 1, datetime(2026, 3, 3, 14), datetime(2026, 3, 3, 16), 8, 0)
    with pytest.raises(ValueError, match="sans fuseau"):
        sessions_ouvertes([naive], ATELIER, *SEMAINE, MAINTENANT)

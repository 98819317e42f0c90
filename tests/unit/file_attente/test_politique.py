"""The call policy: priorities first, but never more than N in a row while a walk-in waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from file_attente.politique import Candidat, choisir, prioritaires_de_suite, rang

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def ticket(id_: int, priorite: int = 0, minutes: int = 0) -> Candidat:
    return Candidat(id_, priorite, T0 + timedelta(minutes=minutes))


def serve_all(candidats: list[Candidat], max_de_suite: int) -> list[int]:
    """Call every ticket one by one, as a counter would, and return the order."""
    waiting = list(candidats)
    history: list[int] = []  # priorities called, newest first
    order = []
    while waiting:
        choice = choisir(
            waiting, de_suite=prioritaires_de_suite(history), max_de_suite=max_de_suite
        )
        assert choice is not None
        order.append(choice.id)
        history.insert(0, choice.priorite)
        waiting.remove(choice)
    return order


def test_walk_ins_in_arrival_order() -> None:
    assert serve_all([ticket(3, minutes=2), ticket(1), ticket(2, minutes=1)], 2) == [1, 2, 3]


def test_a_checked_in_rdv_goes_before_walk_ins() -> None:
    candidats = [ticket(1), ticket(2, minutes=1), ticket(3, priorite=2, minutes=5)]
    assert serve_all(candidats, 2)[0] == 3


def test_never_more_than_n_priority_calls_in_a_row_while_a_walk_in_waits() -> None:
    walk_in = ticket(100, minutes=0)
    priorities = [ticket(i, priorite=1, minutes=i) for i in range(1, 8)]
    order = serve_all([walk_in, *priorities], max_de_suite=2)
    assert order.index(100) == 2


def test_zero_means_arrival_order_only() -> None:
    candidats = [ticket(1, minutes=0), ticket(2, priorite=2, minutes=1)]
    assert serve_all(candidats, 0) == [1, 2]


def test_higher_priority_first_then_arrival() -> None:
    candidats = [ticket(1, priorite=1, minutes=0), ticket(2, priorite=2, minutes=5)]
    assert serve_all(candidats, 3) == [2, 1]


def test_nobody_waiting() -> None:
    assert choisir([], de_suite=0, max_de_suite=2) is None


@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 600)), min_size=1, max_size=40),
    st.integers(1, 4),
)
def test_no_walk_in_waits_more_than_n_priority_calls_after_it_is_first(
    specs: list[tuple[int, int]], max_de_suite: int
) -> None:
    """Anti-starvation, for any mix: between two walk-in calls there are at most N
    priority calls, as long as walk-ins wait."""
    candidats = [ticket(i, p, m) for i, (p, m) in enumerate(specs)]
    order = serve_all(candidats, max_de_suite)
    by_id = {c.id: c for c in candidats}
    walk_ins_left = sum(1 for c in candidats if c.priorite == 0)
    run = 0
    for ticket_id in order:
        if by_id[ticket_id].priorite == 0:
            walk_ins_left -= 1
            run = 0
        else:
            run += 1
            if walk_ins_left:
                assert run <= max_de_suite
    # Everyone is called exactly once.
    assert sorted(order) == sorted(by_id)


def test_rank_counts_priorities_before_a_walk_in() -> None:
    candidats = [ticket(1), ticket(2, minutes=1), ticket(3, priorite=2, minutes=9)]
    assert rang(candidats, candidats[1]) == 2
    assert rang(candidats, candidats[2]) == 0

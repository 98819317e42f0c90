"""The call policy: which waiting ticket a counter calls next. Pure code.

The rule, per counter, over the queues it serves:

1. Priority tickets (appointment check-ins, then priority cards) come before
   walk-ins, higher priority first, then in queue order (`rang_at`: the arrival
   time, or the transfer time for a ticket sent to the end of a queue).
2. Anti-starvation: once `max_de_suite` priority tickets have been called in a
   row from those queues while a walk-in waits, the oldest walk-in is called
   next. `max_de_suite = 0` turns priorities off: arrival order only.
3. Between walk-ins: arrival order across the queues served, so that a person
   in a quiet queue is not overtaken by a busy one.

A counter serving queues with different settings applies the strictest one
(the smallest `max_de_suite`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Candidat:
    id: int
    priorite: int
    rang_at: datetime


def _ordre(candidat: Candidat) -> tuple[datetime, int]:
    return (candidat.rang_at, candidat.id)


def prioritaires_de_suite(derniers_appels: Iterable[int]) -> int:
    """How many of the latest calls, newest first (their priorities), were priority calls."""
    count = 0
    for priorite in derniers_appels:
        if priorite <= 0:
            break
        count += 1
    return count


def choisir(candidats: Sequence[Candidat], *, de_suite: int, max_de_suite: int) -> Candidat | None:
    """The ticket to call, or None when nobody waits.

    `de_suite` is the number of priority tickets just called in a row (see
    `prioritaires_de_suite`).
    """
    if not candidats:
        return None
    if max_de_suite <= 0:
        return min(candidats, key=_ordre)
    normaux = [c for c in candidats if c.priorite <= 0]
    prioritaires = [c for c in candidats if c.priorite > 0]
    if not prioritaires:
        return min(normaux, key=_ordre)
    if normaux and de_suite >= max_de_suite:
        return min(normaux, key=_ordre)
    return min(prioritaires, key=lambda c: (-c.priorite, *_ordre(c)))


def rang(candidats: Sequence[Candidat], cible: Candidat) -> int:
    """How many waiting tickets a queue-order reading puts before `cible` (0: next).

    Priority tickets count before walk-ins; the anti-starvation rule is left out,
    so for a walk-in this is an upper bound when priority tickets wait.
    """
    if cible.priorite > 0:
        return sum(
            1
            for c in candidats
            if c.id != cible.id
            and (
                c.priorite > cible.priorite
                or (c.priorite == cible.priorite and _ordre(c) < _ordre(cible))
            )
        )
    return sum(
        1 for c in candidats if c.id != cible.id and (c.priorite > 0 or _ordre(c) < _ordre(cible))
    )

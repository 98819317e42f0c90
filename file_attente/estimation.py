"""Wait estimates. Pure code.

How it is computed: with `c` counters open for the queue, each serving one
person at a time in about `S` seconds (the mean of the queue's last
`ECHANTILLON` service durations at that site, measured from the call to the
end of the service, so that the walk to the counter counts), a person with `n`
tickets before them waits about

    (n + 1/2) × S / c

seconds: the `n` people ahead share the `c` counters, and when they walk in, the
counters are on average half-way through a service. Until `MINIMUM` services
have been measured, `S` is the queue's default of `DUREE_DEFAUT` seconds.
With no counter open the estimate assumes one: people still see an order of
magnitude rather than nothing. `tests/unit/file_attente/test_estimation.py`
replays a simulated day and checks the estimate against the waits it gives.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

ECHANTILLON = 20
MINIMUM = 3
DUREE_DEFAUT = 600.0


def duree_service(durees: Sequence[float], *, defaut: float = DUREE_DEFAUT) -> float:
    """Mean of the latest durations (seconds, newest first), or `defaut` with too few."""
    recentes = [d for d in durees[:ECHANTILLON] if d > 0]
    if len(recentes) < MINIMUM:
        return defaut
    return sum(recentes) / len(recentes)


def attente_secondes(devant: int, duree: float, guichets: int) -> float:
    return (devant + 0.5) * duree / max(guichets, 1)


def attente_minutes(devant: int, duree: float, guichets: int) -> int:
    """Rounded up to the minute, at least 1: "about 0 minutes" helps nobody."""
    return max(1, math.ceil(attente_secondes(devant, duree, guichets) / 60))

"""The wait estimate against a replay: a simulated day at a site with three counters, where
every arriving person is given the estimate and then actually waits; the estimate must be
close on average and much better than ignoring the counters and the measured durations."""

from __future__ import annotations

import heapq
import random
import statistics

from file_attente import estimation


def test_rounded_up_to_the_minute_and_at_least_one() -> None:
    assert estimation.attente_minutes(0, 60, 3) == 1
    assert estimation.attente_minutes(5, 600, 2) == 28  # (5.5 * 600 / 2) s = 27.5 min


def test_default_duration_until_enough_services_are_measured() -> None:
    assert estimation.duree_service([300, 300]) == estimation.DUREE_DEFAUT
    assert estimation.duree_service([300, 360, 420]) == 360
    # Only the latest ECHANTILLON count.
    assert estimation.duree_service([100] * estimation.ECHANTILLON + [10_000] * 50) == 100


def replay(seed: int, guichets: int = 3) -> list[tuple[float, float, float]]:
    """(estimate, naive, actual wait) in seconds for each arrival of a simulated morning."""
    rng = random.Random(seed)
    t = 0.0
    arrivals = []
    while t < 4 * 3600:
        t += rng.expovariate(1 / 170)  # about 21 people an hour for 3 counters
        arrivals.append((t, rng.uniform(240, 840)))  # services of 4 to 14 minutes
    free_at = [0.0] * guichets  # heap of the times each counter becomes free
    heapq.heapify(free_at)
    finished: list[tuple[float, float]] = []  # (end time, duration of call-to-end)
    starts: list[float] = []
    results = []
    for arrival, duration in arrivals:
        # The queue as seen at arrival: people who arrived before and have not started yet.
        waiting = sum(1 for s in starts if s > arrival)
        measured = [d for end, d in sorted(finished, reverse=True) if end <= arrival]
        estimate = estimation.attente_secondes(
            waiting, estimation.duree_service(measured), guichets
        )
        naive = waiting * estimation.DUREE_DEFAUT
        start = max(arrival, heapq.heappop(free_at))
        heapq.heappush(free_at, start + duration)
        starts.append(start)
        finished.append((start + duration, duration))
        results.append((estimate, naive, start - arrival))
    return results


def test_estimate_tracks_the_replayed_waits() -> None:
    rows = [row for seed in range(5) for row in replay(seed)]
    # People who waited: the estimate matters to them.
    waited = [(e, n, a) for e, n, a in rows if a > 60]
    assert len(waited) > 100
    actual = statistics.mean(a for _, _, a in waited)
    error = statistics.mean(abs(e - a) for e, _, a in waited)
    naive_error = statistics.mean(abs(n - a) for _, n, a in waited)
    bias = statistics.mean(e - a for e, _, a in waited)
    assert error < 0.35 * actual, (error, actual)
    assert abs(bias) < 0.25 * actual, (bias, actual)
    assert error < 0.25 * naive_error, (error, naive_error)

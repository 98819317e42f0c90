"""Latency figures over several runs: each run summarised, then the runs compared."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Run:
    """One run of `calls` sequential calls, in milliseconds."""

    calls: int
    median: float
    p95: float
    p99: float
    min: float
    max: float

    @classmethod
    def of(cls, durations_ns: list[int]) -> Run:
        ms = [d / 1e6 for d in durations_ns]
        # "inclusive": the percentiles stay within the measured values.
        cuts = statistics.quantiles(ms, n=100, method="inclusive")
        return cls(len(ms), statistics.median(ms), cuts[94], cuts[98], min(ms), max(ms))


@dataclass(frozen=True)
class Figures:
    """A benchmark over its runs: the median of the runs' medians (and their spread),
    the median of the runs' p95 and p99, the extremes over every call."""

    name: str
    runs: int
    calls: int
    median: float
    median_low: float
    median_high: float
    p95: float
    p99: float
    min: float
    max: float

    @classmethod
    def of(cls, name: str, runs: list[Run]) -> Figures:
        medians = [run.median for run in runs]
        return cls(
            name=name,
            runs=len(runs),
            calls=sum(run.calls for run in runs),
            median=statistics.median(medians),
            median_low=min(medians),
            median_high=max(medians),
            p95=statistics.median(run.p95 for run in runs),
            p99=statistics.median(run.p99 for run in runs),
            min=min(run.min for run in runs),
            max=max(run.max for run in runs),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

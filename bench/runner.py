"""What the benchmark modules share: sequential calls taking turns over several runs,
their figures as JSON, and the markdown table of them.

A benchmark module runs as `python -m MODULE --database-url URL --calls N --runs R
--output FILE` in its own process (one engine each) and has TITLE, `section(results)`
(the markdown of its results on each engine) and `targets(result)` (rows of the summary
table); `bench/__main__.py` runs and renders them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import database
from bench.stats import Figures, Run


@dataclass(frozen=True)
class Target:
    """What a benchmark must achieve: `stat` (median, p95...) under `ms` milliseconds."""

    stat: str
    ms: float

    def text(self) -> str:
        return f"{self.stat} < {self.ms:g} ms"

    def met(self, figures: dict[str, Any]) -> bool:
        return bool(figures[self.stat] < self.ms)


@dataclass
class Benchmark:
    name: str
    where: str  # "in-process" or "HTTP"
    call: Callable[[int], Awaitable[object]]
    baseline: str | None = None
    target: Target | None = None
    # Calls per run and warm-up calls, when not those of the whole run_all.
    calls: int | None = None
    warm_up: int | None = None
    # Run before each series of calls, out of the measured time.
    before: Callable[[], Awaitable[None]] | None = None
    runs: list[Run] = field(default_factory=list)
    # Per run, this benchmark's median over its baseline's median in the same run.
    ratios: list[float] = field(default_factory=list)

    def result(self) -> dict[str, Any]:
        return {
            "where": self.where,
            "figures": Figures.of(self.name, self.runs).as_dict(),
            "baseline": self.baseline,
            "ratio": statistics.median(self.ratios) if self.ratios else None,
            "target": None if self.target is None else vars(self.target),
        }


async def measure(benchmark: Benchmark, calls: int) -> Run:
    if benchmark.before is not None:
        await benchmark.before()
    durations = []
    for i in range(calls):
        start = time.perf_counter_ns()
        await benchmark.call(i)
        durations.append(time.perf_counter_ns() - start)
    return Run.of(durations)


async def run_all(benchmarks: list[Benchmark], calls: int, runs: int, label: str) -> None:
    for benchmark in benchmarks:
        own = benchmark.calls or calls
        await measure(
            benchmark, benchmark.warm_up if benchmark.warm_up is not None else min(own, 100)
        )
    for number in range(runs):
        # Taking turns, each in a different position per run: a slow patch of
        # the shared machine lands on all of them rather than on one.
        shift = number % len(benchmarks)
        for benchmark in benchmarks[shift:] + benchmarks[:shift]:
            benchmark.runs.append(await measure(benchmark, benchmark.calls or calls))
        by_name = {benchmark.name: benchmark for benchmark in benchmarks}
        for benchmark in benchmarks:
            if benchmark.baseline is not None:
                base = by_name[benchmark.baseline].runs[-1].median
                benchmark.ratios.append(benchmark.runs[-1].median / base)
        print(f"[{label}] run {number + 1}/{runs} done", file=sys.stderr, flush=True)


async def engine_version() -> str:
    from plateforme.settings import get_settings
    from sites.tables import Site

    if get_settings().is_postgres:
        rows = await Site.raw("SHOW server_version")
        return f"PostgreSQL {rows[0]['server_version'].split()[0]}"
    rows = await Site.raw("SELECT sqlite_version() AS version")
    return f"SQLite {rows[0]['version']}"


def main(prog: str, bench: Callable[[int, int], Coroutine[Any, Any, dict[str, Any]]]) -> None:
    """The command line of a benchmark module."""
    parser = argparse.ArgumentParser(prog=f"python -m {prog}")
    parser.add_argument("--database-url", required=True, help="an empty database")
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    # Before anything of the app is imported: the settings are read once.
    database.use(args.database_url)
    result = asyncio.run(bench(args.calls, args.runs))
    args.output.write_text(json.dumps(result, indent=2))


def latency_table(
    result: dict[str, Any], rows: list[dict[str, Any]], unit: str = "calls"
) -> Iterator[str]:
    """The markdown table of these rows of a result, with the sentence that reads it."""
    first = rows[0]["figures"]
    calls = sorted({r["figures"]["calls"] // r["figures"]["runs"] for r in rows})
    per_run = " or ".join(str(c) for c in calls)
    yield from [
        f"{first['runs']} runs × {per_run} {unit} per benchmark, measured in"
        f" {result['seconds']:.0f} s. Median: the median of the runs' medians, with their"
        " lowest and highest; p95 and p99: the median of the runs'; min and max: over every"
        f" {unit[:-1]}. Against baseline: the median of the runs' ratios of medians.",
        "",
        "| Benchmark | Where | Median (runs' spread) | p95 | p99 | Min | Max "
        "| Against baseline | Target |",
        "|---|---|--:|--:|--:|--:|--:|---|---|",
    ]
    for row in rows:
        f = row["figures"]
        against = f"{row['ratio']:.1f} × {row['baseline']}" if row["baseline"] else "—"
        yield (
            f"| {f['name']} | {row['where']} "
            f"| {f['median']:.2f} ({f['median_low']:.2f}–{f['median_high']:.2f}) "
            f"| {f['p95']:.2f} | {f['p99']:.2f} | {f['min']:.2f} | {f['max']:.2f} "
            f"| {against} | {target_text(row)} |"
        )


def target_text(row: dict[str, Any]) -> str:
    if row.get("target") is None:
        return "—"
    target = Target(**row["target"])
    return f"{target.text()}: " + ("met" if target.met(row["figures"]) else "**not met**")


def latency_targets(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Summary rows of the results that have a target."""
    for row in result["results"]:
        if row.get("target") is not None:
            target = Target(**row["target"])
            yield {
                "benchmark": row["figures"]["name"],
                "engine": result["engine"],
                "target": target.text(),
                "measured": f"{row['figures'][target.stat]:.1f} ms",
                "met": target.met(row["figures"]),
            }

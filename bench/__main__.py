"""`make bench`: every benchmark on each engine, figures printed and written to RESULTS.md."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from bench import database, machine

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
# Each module runs as `python -m MODULE --database-url URL --calls N --runs R --output FILE`
# and has TITLE and ABOUT (markdown, may use {sample}).
BENCHMARKS = ("bench.nearest_sites",)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--engine",
        choices=("sqlite", "postgres", "both"),
        default="both",
        help="both (the default) skips PostgreSQL when there is neither BENCH_DATABASE_URL "
        "nor a local PostgreSQL 15 to start a throwaway cluster with",
    )
    parser.add_argument("--calls", type=int, default=500, help="calls per run (default 500)")
    parser.add_argument("--runs", type=int, default=5, help="runs (default 5)")
    args = parser.parse_args(argv)
    if args.calls < 2 or args.runs < 1:
        parser.error("--calls must be 2 or more and --runs 1 or more")
    return args


def engines(choice: str) -> tuple[list[str], str | None]:
    """The engines to measure, and why PostgreSQL was left out, if it was."""
    if choice == "sqlite":
        return ["sqlite"], None
    if not database.postgres_available():
        reason = "no BENCH_DATABASE_URL and no PostgreSQL 15 in " + str(database.PG_BIN)
        if choice == "postgres":
            sys.exit(f"Cannot benchmark PostgreSQL: {reason}.")
        return ["sqlite"], reason
    return (["postgres"] if choice == "postgres" else ["sqlite", "postgres"]), None


def temp_database(engine: str) -> AbstractContextManager[str]:
    return database.postgres_database() if engine == "postgres" else database.sqlite_database()


def run_one(module: str, engine: str, args: argparse.Namespace) -> dict[str, Any]:
    with temp_database(engine) as url, tempfile.TemporaryDirectory() as directory:
        output = Path(directory) / "result.json"
        command = [sys.executable, "-m", module, "--database-url", url]
        command += ["--calls", str(args.calls), "--runs", str(args.runs), "--output", str(output)]
        subprocess.run(command, cwd=database.ROOT, check=True)
        result: dict[str, Any] = json.loads(output.read_text())
        return result


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    chosen, skipped = engines(args.engine)
    started_at = dt.datetime.now(dt.UTC)
    started = time.monotonic()
    load_before = machine.load_average()
    neighbours = machine.other_benchmarks_or_tests()
    results: dict[str, list[dict[str, Any]]] = {}
    for module in BENCHMARKS:
        for engine in chosen:
            print(f"=== {module} on {engine} ===", file=sys.stderr, flush=True)
            results.setdefault(module, []).append(run_one(module, engine, args))
    neighbours += machine.other_benchmarks_or_tests()
    report = render(
        command=shlex.join([".venv/bin/python", "-m", "bench", *argv]),
        started_at=started_at,
        seconds=time.monotonic() - started,
        load=(load_before, machine.load_average()),
        neighbours=sorted(set(neighbours)),
        skipped=skipped,
        results=results,
    )
    print(report)
    RESULTS.write_text(report)
    print(f"Written to {RESULTS.relative_to(database.ROOT)}.", file=sys.stderr)


def render(
    *,
    command: str,
    started_at: dt.datetime,
    seconds: float,
    load: tuple[str, str],
    neighbours: list[str],
    skipped: str | None,
    results: dict[str, list[dict[str, Any]]],
) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Written on {started_at:%Y-%m-%d %H:%M} UTC, in {seconds:.0f} s, by:",
        "",
        f"    {command}",
        "",
        "Reproduce with `make bench`, or `.venv/bin/python -m bench [--engine sqlite|postgres|both]"
        " [--calls N] [--runs R]`. PostgreSQL runs in a temp database on the server of"
        " `BENCH_DATABASE_URL` (created, then dropped), or else on a throwaway PostgreSQL 15"
        " cluster (`scripts/postgres-test.sh`, fsync off). All times in milliseconds.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
    ]
    engines_seen = {r["engine"] for runs in results.values() for r in runs}
    about = dict(machine.describe())
    about["SQLite"] += " (the library of Python's sqlite3, used by aiosqlite)"
    postgres = sorted(e for e in engines_seen if e.startswith("PostgreSQL"))
    about["PostgreSQL"] = ", ".join(postgres) or f"not measured ({skipped or 'not asked'})"
    servers = sorted({r["server"] for runs in results.values() for r in runs})
    about["HTTP server"] = ", ".join(servers)
    about["Load average (1, 5, 15 min)"] = f"{load[0]} before, {load[1]} after"
    about["Alongside"] = (
        "**pytest was running during this run (`make test`?): figures taken under that load**"
        + "".join(f"<br>`{n}`" for n in neighbours)
        if neighbours
        else "no pytest process seen before or after the run"
    )
    lines += [f"| {key} | {value} |" for key, value in about.items()]
    for module, runs in results.items():
        lines += _section(importlib.import_module(module), runs)
    return "\n".join(lines) + "\n"


def _section(module: Any, runs: list[dict[str, Any]]) -> Iterator[str]:
    yield from ["", f"## {module.TITLE}", ""]
    yield module.ABOUT.format(sample=runs[0]["sample"])
    for result in runs:
        first = result["results"][0]["figures"]
        yield from [
            "",
            f"### {result['engine']}",
            "",
            f"{first['runs']} runs × {first['calls'] // first['runs']} calls per benchmark,"
            f" measured in {result['seconds']:.0f} s. Median: the median of the runs' medians,"
            " with their lowest and highest; p95 and p99: the median of the runs'; min and max:"
            " over every call. Against baseline: the median of the runs' ratios of medians.",
            "",
            "| Benchmark | Where | Median (runs' spread) | p95 | p99 | Min | Max "
            "| Against baseline | Target: median < 5 ms |",
            "|---|---|--:|--:|--:|--:|--:|---|---|",
        ]
        for row in result["results"]:
            f = row["figures"]
            against = f"{row['ratio']:.1f} × {row['baseline']}" if row["baseline"] else "—"
            target = "—"
            if row["target_ms"] is not None:
                met = f["median"] < row["target_ms"]
                target = "met" if met else "**not met**"
            yield (
                f"| {f['name']} | {row['where']} "
                f"| {f['median']:.2f} ({f['median_low']:.2f}–{f['median_high']:.2f}) "
                f"| {f['p95']:.2f} | {f['p99']:.2f} | {f['min']:.2f} | {f['max']:.2f} "
                f"| {against} | {target} |"
            )
        yield ""
        yield _checks(result)


def _checks(result: dict[str, Any]) -> str:
    rows = result["rows"]
    parts = [
        f"Database: {rows['communes']:,} communes, {rows['territoires']} territoires,"
        f" {rows['sites']} sites."
    ]
    for service, check in result["checks"].items():
        low, high = check["results_min"], check["results_max"]
        count = str(low) if low == high else f"{low} to {high}"
        parts.append(
            f"`{service}` (offered by {check['offered_by']} sites): {count} sites per call;"
            f" {check['within_radius_median']:g} candidates within the 30 km radius in the"
            f" median (at most {check['within_radius_max']}); fewer than 10 for"
            f" {check['second_query_share']:.0%} of the communes, which then take a second,"
            " unbounded query."
        )
    return " ".join(parts)


if __name__ == "__main__":
    main()

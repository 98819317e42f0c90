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
# on a database of its own and has TITLE, section(results) and targets(result): see
# bench/runner.py.
BENCHMARKS = ("bench.nearest_sites", "bench.rdv_search", "bench.booking", "bench.file_attente")
BENCHMARKS += ("bench.notifications",)


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
    parser.add_argument(
        "--only",
        choices=BENCHMARKS,
        type=lambda name: name if name.startswith("bench.") else f"bench.{name}",
        action="append",
        help="run only this benchmark (repeatable); the report is printed, RESULTS.md is"
        " left as it is",
    )
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
    for module in args.only or BENCHMARKS:
        for engine in chosen:
            print(f"=== {module} on {engine} ===", file=sys.stderr, flush=True)
            results.setdefault(module, []).append(run_one(module, engine, args))
            # Between runs too: a test suite may start and end in the middle of ours.
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
    print("\n".join(summary(results)))
    if args.only:
        print(f"Only some benchmarks ran: {RESULTS.name} left as it is.", file=sys.stderr)
        return
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
    lines += ["", *summary(results)]
    for module, runs in results.items():
        lines += ["", f"## {importlib.import_module(module).TITLE}", ""]
        lines += list(importlib.import_module(module).section(runs))
    return "\n".join(lines) + "\n"


def summary(results: dict[str, list[dict[str, Any]]]) -> Iterator[str]:
    """Every target of every benchmark on every engine, met or not."""
    yield from [
        "## Summary",
        "",
        "| Benchmark | Engine | Target | Measured | |",
        "|---|---|---|--:|---|",
    ]
    for module, runs in results.items():
        for result in runs:
            for row in importlib.import_module(module).targets(result):
                met = "met" if row["met"] else "**not met**"
                yield (
                    f"| {row['benchmark']} | {row['engine']} | {row['target']}"
                    f" | {row['measured']} | {met} |"
                )


if __name__ == "__main__":
    main()

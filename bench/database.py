"""A fresh bench database: a temp SQLite file or a temp PostgreSQL database, demo loaded.

The settings and Piccolo's engine are read once per process from the
environment, so `use()` must run before anything of the app is imported, and
one process benchmarks one engine (`bench/__main__.py` starts one per engine).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def use(database_url: str) -> None:
    """Point this process (and the servers it starts) at the bench database."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["PICCOLO_CONF"] = "piccolo_conf"
    os.environ.setdefault("LOG_LEVEL", "WARNING")


async def load_demo() -> dict[str, int]:
    """Migrations, the 34,875 communes and the demo; the number of rows of each."""
    from plateforme import db
    from plateforme.migrations import migrate
    from plateforme.settings import get_settings
    from sites.services.communes import import_communes
    from sites.services.demo import seed_demo
    from sites.tables import Commune, Site, Territoire

    await migrate()
    await db.start(get_settings())
    try:
        await import_communes()
        await seed_demo()
        return {
            "communes": await Commune.count(),
            "territoires": await Territoire.count(),
            "sites": await Site.count(),
        }
    finally:
        await db.stop()


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="rdv-bench-") as directory:
        yield f"sqlite:///{directory}/bench.sqlite3"


def postgres_available() -> bool:
    return bool(os.environ.get("BENCH_DATABASE_URL")) or (PG_BIN / "initdb").exists()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A temp database on BENCH_DATABASE_URL's server (its role needs CREATEDB),
    or on a throwaway cluster started like the Makefile's test-postgres target."""
    server_url = os.environ.get("BENCH_DATABASE_URL")
    if server_url:
        with _temp_database(server_url) as url:
            yield url
        return
    directory = tempfile.mkdtemp(prefix="rdv-bench-pg.")
    script = str(ROOT / "scripts" / "postgres-test.sh")
    try:
        started = subprocess.run(
            [script, "start", directory], check=True, capture_output=True, text=True
        )
        with _temp_database(started.stdout.strip()) as url:
            yield url
    finally:
        subprocess.run([script, "stop", directory], check=False, capture_output=True)


@contextmanager
def _temp_database(server_url: str) -> Iterator[str]:
    # Never the database of the URL itself: it may hold something worth keeping.
    name = f"rdv_bench_{secrets.token_hex(4)}"
    asyncio.run(_execute(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    finally:
        asyncio.run(_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _execute(url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()

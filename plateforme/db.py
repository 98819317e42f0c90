"""Database engine choice (SQLite embedded, PostgreSQL in production) and write transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from plateforme.settings import Settings

# Seconds a SQLite writer waits for the lock before "database is locked".
SQLITE_BUSY_TIMEOUT = 30


def build_engine(settings: Settings) -> Engine:  # type: ignore[type-arg]
    if settings.is_postgres:
        return PostgresEngine(config={"dsn": settings.database_url})
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT)


def engine() -> Engine:  # type: ignore[type-arg]
    found = engine_finder()
    if found is None:
        raise RuntimeError("No Piccolo engine: is PICCOLO_CONF set to piccolo_conf?")
    return found


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


def write_transaction() -> Any:
    """A transaction that takes the write lock at BEGIN on SQLite.

    A deferred SQLite transaction that reads then writes fails with "database is
    locked" when another writer got in between; IMMEDIATE serialises writers
    up front, which is what makes check-then-write sequences safe there.
    """
    db = engine()
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()


def enable_wal(settings: Settings) -> None:
    """WAL lets readers go on while one writer writes; the mode is stored in the file."""
    if settings.is_postgres:
        return
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


async def start(settings: Settings) -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=2, max_size=20)
    else:
        enable_wal(settings)


async def stop() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()


async def ping() -> bool:
    try:
        await engine().run_ddl("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False
    return True


def is_unique_violation(error: BaseException) -> bool:
    """True for a unique-index violation, whichever engine raised it."""
    if isinstance(error, sqlite3.IntegrityError):
        return "UNIQUE constraint failed" in str(error)
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg is installed with piccolo[postgres]
        return False
    return isinstance(error, asyncpg.UniqueViolationError)


@asynccontextmanager
async def lecture() -> AsyncIterator[None]:
    """Several reads on one SQLite connection, from one consistent snapshot.

    Piccolo's SQLite engine opens a new connection (and thread) for every query
    outside a transaction, about half a millisecond each; a deferred read
    transaction takes none of the write lock in WAL mode, so writers go on.
    PostgreSQL reads come from the pool already: nothing to do there. Never
    write inside it (use write_transaction).
    """
    db = engine()
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.deferred):
            yield
    else:
        yield

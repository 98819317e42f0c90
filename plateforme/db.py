"""Database engine choice (SQLite embedded, PostgreSQL in production) and write transactions."""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory

from plateforme.settings import Settings

# Seconds a SQLite writer waits for the lock before "database is locked".
SQLITE_BUSY_TIMEOUT = 30


class _SQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine without the `PRAGMA foreign_keys = 1` it sends before each
    query of a transaction: the transaction's connection got it when it was opened
    (`get_connection`), and SQLite ignores it inside a transaction anyway. That was
    every other round trip to aiosqlite's thread of a transaction (a booking made 62
    for its 30 queries), each one more turn of a busy event loop while the write
    lock is held."""

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        connection.row_factory = dict_factory
        async with connection.execute(query, args or []) as cursor:
            response = await cursor.fetchall()
            if query_type == "insert" and self.get_version_sync() < 3.35:
                # No RETURNING before SQLite 3.35: as Piccolo does.
                assert table is not None
                pk = await self._get_inserted_pk(cursor, table)
                return [{table._meta.primary_key._meta.db_column_name: pk}]
            return response


def build_engine(settings: Settings) -> Engine:  # type: ignore[type-arg]
    if settings.is_postgres:
        return PostgresEngine(config={"dsn": settings.database_url})
    path = settings.sqlite_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return _SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT)


def engine() -> Engine:  # type: ignore[type-arg]
    found = engine_finder()
    if found is None:
        raise RuntimeError("No Piccolo engine: is PICCOLO_CONF set to piccolo_conf?")
    return found


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


@asynccontextmanager
async def write_transaction() -> AsyncIterator[Any]:
    """A transaction that takes the write lock at BEGIN on SQLite.

    A deferred SQLite transaction that reads then writes fails with "database is
    locked" when another writer got in between; IMMEDIATE serialises writers
    up front, which is what makes check-then-write sequences safe there.

    On SQLite the writers of this process also queue on an asyncio lock before
    BEGIN: first come, first served, and the next one starts as soon as the
    previous one commits. Without it they wait in SQLite's busy handler, which
    sleeps up to 100 ms between tries while the lock may already be free
    (bench/RESULTS.md). Inside a transaction, it is that transaction.
    """
    db = engine()
    if not isinstance(db, SQLiteEngine):
        async with db.transaction() as transaction:
            yield transaction
        return
    if db.current_transaction.get() is not None:
        async with db.transaction(transaction_type=TransactionType.immediate) as transaction:
            yield transaction
        return
    verrou = _verrou_des_ecrivains()
    try:
        async with asyncio.timeout(SQLITE_BUSY_TIMEOUT):
            await verrou.acquire()
    except TimeoutError:
        raise sqlite3.OperationalError("database is locked") from None
    try:
        async with db.transaction(transaction_type=TransactionType.immediate) as transaction:
            yield transaction
    finally:
        verrou.release()


# One lock per event loop (tests run several loops one after the other).
_ecrivains: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _verrou_des_ecrivains() -> asyncio.Lock:
    boucle = asyncio.get_running_loop()
    verrou = _ecrivains.get(boucle)
    if verrou is None:
        verrou = _ecrivains[boucle] = asyncio.Lock()
    return verrou


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

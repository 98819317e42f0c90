"""Database engine choice (SQLite embedded, PostgreSQL in production) and write transactions."""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import AsyncIterator, Sequence, Sized
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

from plateforme.settings import Settings

# Seconds a SQLite writer waits for the lock before "database is locked".
SQLITE_BUSY_TIMEOUT = 30


# Idle SQLite connections kept open for the next transaction or query of this process.
SQLITE_CONNEXIONS_LIBRES = 10


class _SQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine, with its connections kept open and one round trip a query.

    Piccolo opens a new aiosqlite connection, with a thread of its own, for every
    transaction and every query outside one, then closes it: about 1.2 ms of CPU
    each, against 0.2 ms for a query on an open connection (bench/RESULTS.md). Here
    up to `SQLITE_CONNEXIONS_LIBRES` idle connections wait for the next user. A
    connection goes back only when its last statement finished and nothing is left
    open on it (no transaction, nothing cancelled half-way); any other is closed.
    Connections are in autocommit mode (`isolation_level=None`, Piccolo's default),
    so one holds no snapshot between two uses.

    A query is one `execute_fetchall` round trip to the connection's thread (three
    with Piccolo: execute, fetch, close the cursor), and the `PRAGMA foreign_keys = 1`
    Piccolo sent before each query of a transaction is sent once, when the
    connection opens (inside a transaction SQLite ignores it anyway).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._libres: list[aiosqlite.Connection] = []

    async def prendre(self) -> aiosqlite.Connection:
        """An open connection: an idle one, or a new one."""
        if self._libres:
            return self._libres.pop()
        connection = aiosqlite.connect(**self.connection_kwargs)
        # aiosqlite's thread is not a daemon: one left open in the pool would keep
        # the interpreter from exiting (threading joins them before atexit runs).
        connection._thread.daemon = True
        await connection
        try:
            connection.row_factory = dict_factory  # type: ignore[assignment]
            await connection.execute("PRAGMA foreign_keys = 1")
        except BaseException:
            connection.stop()
            raise
        return connection

    def rendre(self, connection: aiosqlite.Connection, propre: bool) -> None:
        """Back to the pool if `propre` (its last operation completed) and idle; else closed."""
        garder = (
            propre
            and connection._connection is not None
            and not connection.in_transaction
            and len(self._libres) < SQLITE_CONNEXIONS_LIBRES
        )
        if garder:
            self._libres.append(connection)
        else:
            # Queued after whatever the thread still has to do, then the thread ends.
            connection.stop()

    async def fermer(self) -> None:
        """Close the idle connections (at shutdown)."""
        libres, self._libres = self._libres, []
        for connection in libres:
            await connection.close()

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return _Transaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )

    @asynccontextmanager
    async def emprunt(self) -> AsyncIterator[aiosqlite.Connection]:
        """A pooled connection for one statement outside a transaction: back to the pool
        if the statement ran to its end, else closed."""
        connection = await self.prendre()
        propre = False
        try:
            yield connection
            propre = True
        finally:
            self.rendre(connection, propre)

    async def lignes(self, query: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows as tuples, in one trip to the connection's thread: on the current
        transaction's connection, as Piccolo's queries, or on a pooled one."""
        transaction = self.current_transaction.get()
        if transaction is not None:
            return await _tuples(_ouverte(transaction.connection), query, args)
        async with self.emprunt() as connection:
            return await _tuples(connection, query, args)

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        async with self.emprunt() as connection:
            return await self._run_in_existing_connection(
                connection, query, args, query_type, table
            )

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        connection = _ouverte(connection)
        if query_type == "insert" and self.get_version_sync() < 3.35:
            # No RETURNING before SQLite 3.35: the primary key from the cursor, as Piccolo.
            async with connection.execute(query, args or []) as cursor:
                pk = await self._get_inserted_pk(cursor, table)
                return [{table._meta.primary_key._meta.db_column_name: pk}]
        return await connection.execute_fetchall(query, args or [])


def _ouverte(connection: aiosqlite.Connection | None) -> aiosqlite.Connection:
    """The current transaction's connection, unless a task outlived that transaction (its
    context still names it): the connection went back to the pool and may be another
    request's by now."""
    if connection is None:
        raise RuntimeError("Cette transaction est terminée.")
    return connection


async def _tuples(
    connection: aiosqlite.Connection, query: str, args: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """One trip to the connection's thread, with a cursor of its own there, so that the
    connection's dict rows (Piccolo's) are not built."""

    def lire() -> list[tuple[Any, ...]]:
        cursor = connection._conn.cursor()
        try:
            cursor.row_factory = None
            return cursor.execute(query, args).fetchall()
        finally:
            cursor.close()

    rows: list[tuple[Any, ...]] = await connection._execute(lire)  # type: ignore[no-untyped-call]
    return rows


class _Transaction(SQLiteTransaction):
    """Piccolo's SQLite transaction on a connection of the engine's pool."""

    engine: _SQLiteEngine

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.engine.prendre()
        try:
            await self.begin()  # type: ignore[no-untyped-call]
        except BaseException:
            self.engine.rendre(self.connection, propre=False)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        propre = False
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()  # type: ignore[no-untyped-call]
            elif not self._committed and not self._rolled_back:
                await self.commit()  # type: ignore[no-untyped-call]
            # Each statement ran to its end (a cancelled one before the ROLLBACK, on
            # the connection's one thread): the connection holds nothing open.
            propre = True
        finally:
            connection, self.connection = self.connection, None
            try:
                self.engine.rendre(connection, propre)
            finally:
                self.engine.current_transaction.reset(self.context)
        return exception is None


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
    elif isinstance(db, _SQLiteEngine):
        await db.fermer()


async def ping() -> bool:
    try:
        await engine().run_ddl("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False
    return True


async def lignes(sql: str, *args: Any) -> Sequence[Sequence[Any]]:
    """The rows a statement returns, as tuples straight from the driver: no Piccolo query
    to build and no dict per row. For the hot paths: the reads of thousands of rows in
    a search, and the statements every booking runs in its write transaction.

    `sql` has a `{}` for each argument, as Piccolo's `raw()`. It runs on the current
    transaction's connection if there is one (`lecture()`, `write_transaction()`),
    else on a pooled connection. SQLite's converters of declared types still apply
    (a DATE column gives a date, a BOOLEAN a bool), on a column read as it is.
    """
    db = engine()
    if isinstance(db, _SQLiteEngine):
        return await db.lignes(sql.format(*("?" for _ in args)), args)
    if not isinstance(db, PostgresEngine):
        raise RuntimeError(f"unexpected engine {type(db).__name__}")
    query = sql.format(*(f"${i}" for i in range(1, len(args) + 1)))
    transaction = db.current_transaction.get()
    if transaction is not None:
        return await transaction.connection.fetch(query, *args)  # type: ignore[no-any-return]
    if db.pool is not None:
        async with db.pool.acquire() as connection:
            return await connection.fetch(query, *args)  # type: ignore[no-any-return]
    connection = await db.get_new_connection()
    try:
        return await connection.fetch(query, *args)  # type: ignore[no-any-return]
    finally:
        await connection.close()


def marques(valeurs: Sized) -> str:
    """`{}, {}, ...`: one placeholder of `lignes` per value, for an IN list."""
    return ", ".join("{}" for _ in range(len(valeurs)))


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

    Outside a transaction every query could see another state of the database; a
    deferred read transaction takes none of the write lock in WAL mode, so writers
    go on.
    PostgreSQL reads come from the pool already: nothing to do there. Never
    write inside it (use write_transaction).
    """
    db = engine()
    if isinstance(db, SQLiteEngine):
        async with db.transaction(transaction_type=TransactionType.deferred):
            yield
    else:
        yield

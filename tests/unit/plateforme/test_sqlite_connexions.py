"""The SQLite engine's kept-open connections, on a real database file of its own (so on
both passes of the suite): reused, and never handed over with anything left open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from piccolo.engine.sqlite import TransactionType

from plateforme import db
from plateforme.db import SQLITE_CONNEXIONS_LIBRES, _SQLiteEngine


@pytest.fixture
async def moteur(tmp_path: Path) -> AsyncIterator[_SQLiteEngine]:
    engine = _SQLiteEngine(path=str(tmp_path / "pool.sqlite3"), timeout=30)
    await engine.run_ddl("PRAGMA journal_mode=WAL")
    await engine.run_ddl("CREATE TABLE ligne (id INTEGER PRIMARY KEY, texte TEXT NOT NULL)")
    yield engine
    await engine.fermer()


def ouvertes(engine: _SQLiteEngine) -> list[object]:
    return list(engine._libres)


async def lignes(engine: _SQLiteEngine) -> list[str]:
    rows = await engine.run_ddl("SELECT texte FROM ligne ORDER BY id")
    return [row["texte"] for row in rows]


async def test_queries_and_transactions_reuse_one_connection(moteur: _SQLiteEngine) -> None:
    premiere = await moteur.prendre()
    moteur.rendre(premiere, propre=True)
    for n in range(20):
        async with moteur.transaction(TransactionType.immediate):
            await moteur.run_ddl(f"INSERT INTO ligne (texte) VALUES ('ligne {n}')")
        assert len(await lignes(moteur)) == n + 1
    assert ouvertes(moteur) == [premiere], "the same connection, kept open"


async def test_a_failed_transaction_is_rolled_back_before_its_connection_is_reused(
    moteur: _SQLiteEngine,
) -> None:
    with pytest.raises(RuntimeError):
        async with moteur.transaction(TransactionType.immediate):
            await moteur.run_ddl("INSERT INTO ligne (texte) VALUES ('perdue')")
            raise RuntimeError("échec au milieu")
    [connection] = ouvertes(moteur)
    assert not connection.in_transaction
    assert await lignes(moteur) == []
    async with moteur.transaction(TransactionType.immediate):
        await moteur.run_ddl("INSERT INTO ligne (texte) VALUES ('gardée')")
    assert await lignes(moteur) == ["gardée"]


async def test_a_transaction_cancelled_half_way_leaves_nothing_written_nor_open(
    moteur: _SQLiteEngine,
) -> None:
    dedans = asyncio.Event()

    async def ecrivain() -> None:
        async with moteur.transaction(TransactionType.immediate):
            await moteur.run_ddl("INSERT INTO ligne (texte) VALUES ('annulée')")
            dedans.set()
            await asyncio.sleep(30)

    tache = asyncio.create_task(ecrivain())
    await dedans.wait()
    tache.cancel()
    with pytest.raises(asyncio.CancelledError):
        await tache
    assert all(not c.in_transaction for c in ouvertes(moteur))
    assert await lignes(moteur) == []
    # The write lock was released: another writer gets it at once.
    async with asyncio.timeout(5), moteur.transaction(TransactionType.immediate):
        await moteur.run_ddl("INSERT INTO ligne (texte) VALUES ('suivante')")
    assert await lignes(moteur) == ["suivante"]


async def test_queries_cancelled_mid_flight_never_hand_a_busy_connection_to_the_next(
    moteur: _SQLiteEngine,
) -> None:
    async with moteur.transaction(TransactionType.immediate):
        for n in range(200):
            await moteur.run_ddl(f"INSERT INTO ligne (texte) VALUES ('{n}')")
    slow = "SELECT count(*) AS n FROM ligne a, ligne b, ligne c"
    for _ in range(5):
        taches = [asyncio.create_task(moteur.run_ddl(slow)) for _ in range(4)]
        await asyncio.sleep(0.01)
        for tache in taches:
            tache.cancel()
        await asyncio.gather(*taches, return_exceptions=True)
    async with moteur.transaction(TransactionType.immediate):
        await moteur.run_ddl("INSERT INTO ligne (texte) VALUES ('fin')")
    assert (await lignes(moteur))[-1] == "fin"
    assert all(not c.in_transaction for c in ouvertes(moteur))


async def test_many_at_once_all_succeed_and_few_stay_open(moteur: _SQLiteEngine) -> None:
    async def ecrire(n: int) -> None:
        async with moteur.transaction(TransactionType.immediate):
            await moteur.run_ddl(f"INSERT INTO ligne (texte) VALUES ('{n}')")

    async def lire() -> int:
        return len(await lignes(moteur))

    results = await asyncio.gather(*(ecrire(n) for n in range(50)), *(lire() for _ in range(50)))
    assert sorted(await lignes(moteur), key=int) == [str(n) for n in range(50)]
    assert all(isinstance(r, int) or r is None for r in results)
    assert len(ouvertes(moteur)) <= SQLITE_CONNEXIONS_LIBRES


async def test_a_task_that_outlives_its_transaction_cannot_use_the_connection_any_more(
    moteur: _SQLiteEngine,
) -> None:
    fin = asyncio.Event()

    async def retardataire() -> None:
        await fin.wait()
        await moteur.run_ddl("INSERT INTO ligne (texte) VALUES ('trop tard')")

    async with moteur.transaction(TransactionType.immediate):
        # The task copies the context, and with it the current transaction.
        tache = asyncio.create_task(retardataire())
    fin.set()
    with pytest.raises(RuntimeError, match="terminée"):
        await tache
    async with moteur.transaction(TransactionType.immediate):
        await moteur.run_ddl("INSERT INTO ligne (texte) VALUES ('suivante')")
    assert await lignes(moteur) == ["suivante"]


async def test_lignes_reads_tuples_on_the_transactions_connection_or_a_kept_one(
    moteur: _SQLiteEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hot paths' reads and writes (`plateforme.db.lignes`): inside a transaction they
    see what it wrote and go with it; outside one they take a kept connection back."""
    monkeypatch.setattr(db, "engine", lambda: moteur)
    await moteur.run_ddl("CREATE TABLE jour (id INTEGER PRIMARY KEY, le DATE, ouvert BOOLEAN)")
    with pytest.raises(RuntimeError, match="annulée"):
        async with moteur.transaction(TransactionType.immediate):
            await db.lignes(
                "INSERT INTO jour (le, ouvert) VALUES ({}, {})", date(2026, 12, 7), True
            )
            # Declared types are converted, as in Piccolo's own rows.
            assert await db.lignes("SELECT le, ouvert FROM jour") == [(date(2026, 12, 7), True)]
            raise RuntimeError("annulée")
    assert await db.lignes("SELECT le FROM jour") == []
    assert len(ouvertes(moteur)) == 1, "the connection went back to the pool"
    [(ecrit,)] = await db.lignes("INSERT INTO ligne (texte) VALUES ({}) RETURNING id", "une")
    assert await lignes(moteur) == ["une"] and ecrit == 1


async def test_lignes_refuses_a_task_that_outlives_its_transaction(
    moteur: _SQLiteEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "engine", lambda: moteur)
    fin = asyncio.Event()

    async def retardataire() -> None:
        await fin.wait()
        await db.lignes("INSERT INTO ligne (texte) VALUES ({})", "trop tard")

    async with moteur.transaction(TransactionType.immediate):
        tache = asyncio.create_task(retardataire())
    fin.set()
    with pytest.raises(RuntimeError, match="terminée"):
        await tache
    assert await lignes(moteur) == []

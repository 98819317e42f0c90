"""Recognising the database's refusals of invariant 1, whichever engine raised them."""

from __future__ import annotations

import sqlite3

from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from plateforme.db import engine


def _asyncpg_error(name: str) -> type[BaseException] | None:
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - installed with piccolo[postgres]
        return None
    found: type[BaseException] | None = getattr(asyncpg, name, None)
    return found


def is_chevauchement(error: BaseException) -> bool:
    """The agent already has an active rdv overlapping this one.

    A deadlock between two writers of the same agent counts too: one of them
    lost the race, whatever PostgreSQL called it.
    """
    if isinstance(error, sqlite3.IntegrityError):
        return "rdv_chevauchement" in str(error)
    exclusion = _asyncpg_error("ExclusionViolationError")
    deadlock = _asyncpg_error("DeadlockDetectedError")
    return any(kind is not None and isinstance(error, kind) for kind in (exclusion, deadlock))


def is_complet(error: BaseException) -> bool:
    """A collective rdv already holds as many participants as its capacity."""
    if isinstance(error, sqlite3.IntegrityError):
        return "rdv_complet" in str(error)
    check = _asyncpg_error("CheckViolationError")
    return check is not None and isinstance(error, check) and "rdv_complet" in str(error)


async def verrouiller_agent(agent_id: int) -> None:
    """Queue the writers of one agent's rdvs behind each other (PostgreSQL).

    Two transactions inserting overlapping rdvs for one agent can otherwise
    wait on each other inside the exclusion constraint until PostgreSQL's
    deadlock detector aborts one of them after a second, as a 500 instead of a
    409. Locking the agent row first makes the second wait, then see the
    first's rdv and fail cleanly. SQLite needs nothing: IMMEDIATE write
    transactions are already serialised.
    """
    await _verrouiller("SELECT id FROM agent WHERE id = {} FOR UPDATE", agent_id)


async def verrouiller_agent_de_la_place(participant_id: int) -> None:
    """`verrouiller_agent` for the agent of a seat's session, found and locked in one query."""
    await _verrouiller(
        "SELECT a.id FROM agent a JOIN rdv r ON r.agent = a.id"
        " JOIN rdv_participant p ON p.rdv = r.id WHERE p.id = {} FOR UPDATE OF a",
        participant_id,
    )


async def _verrouiller(sql: str, identifiant: int) -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.run_querystring(QueryString(sql, identifiant))

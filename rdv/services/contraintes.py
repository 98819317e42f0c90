"""Recognising the database's refusals of invariant 1, whichever engine raised them."""

from __future__ import annotations

import sqlite3


def _asyncpg_error(name: str) -> type[BaseException] | None:
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - installed with piccolo[postgres]
        return None
    found: type[BaseException] | None = getattr(asyncpg, name, None)
    return found


def is_chevauchement(error: BaseException) -> bool:
    """The agent already has an active rdv overlapping this one."""
    if isinstance(error, sqlite3.IntegrityError):
        return "rdv_chevauchement" in str(error)
    exclusion = _asyncpg_error("ExclusionViolationError")
    return exclusion is not None and isinstance(error, exclusion)


def is_complet(error: BaseException) -> bool:
    """A collective rdv already holds as many participants as its capacity."""
    if isinstance(error, sqlite3.IntegrityError):
        return "rdv_complet" in str(error)
    check = _asyncpg_error("CheckViolationError")
    return check is not None and isinstance(error, check) and "rdv_complet" in str(error)

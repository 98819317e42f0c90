"""Periodic jobs in the app's event loop (APScheduler 3.11's AsyncIOScheduler).

The domain packages hand their jobs to `create_app`; this module only runs
them. A job that fails is logged and runs again at its next tick. Set
SCHEDULER_ENABLED=0 on extra workers.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tache:
    nom: str
    fonction: Callable[[], Awaitable[Any]]
    secondes: int


def _protege(tache: Tache) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await tache.fonction()
        except Exception:  # noqa: BLE001 - logged, retried at the next tick
            logger.exception("la tâche %s a échoué", tache.nom)

    return run


@asynccontextmanager
async def planificateur(taches: list[Tache]) -> AsyncIterator[AsyncIOScheduler]:
    scheduler = AsyncIOScheduler(timezone="UTC")
    for tache in taches:
        scheduler.add_job(
            _protege(tache),
            "interval",
            seconds=tache.secondes,
            id=tache.nom,
            # One run at a time; a late tick is merged, not queued.
            max_instances=1,
            coalesce=True,
        )
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)

"""Invariant 1, at the database level: the engines themselves refuse double bookings.

Many writers race on the same agent at once; whatever the application code did
before, the exclusion constraint (PostgreSQL) or the triggers inside IMMEDIATE
transactions (SQLite) let exactly one through.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from plateforme.db import write_transaction
from rdv.services.contraintes import is_chevauchement, is_complet
from rdv.tables import Rdv, RdvParticipant
from tests import factories

NEUF_HEURES = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)


@pytest.fixture
async def cabinet() -> dict[str, Any]:
    territoire = await factories.territoire()
    service = await factories.service(territoire)
    site = await factories.site(territoire, services=[service])
    return {
        "territoire": territoire,
        "site": site,
        "agent": await factories.agent(territoire),
        "motif": await factories.motif(service),
        "collectif": await factories.motif(service, collectif=True, capacite=5),
    }


async def insert_rdv(
    cabinet: dict[str, Any], debut: datetime, minutes: int = 30, **values: Any
) -> Rdv:
    data: dict[str, Any] = {
        "motif": cabinet["motif"].id,
        "site": cabinet["site"].id,
        "agent": cabinet["agent"].id,
        "debut": debut,
        "fin": debut + timedelta(minutes=minutes),
        "code": factories.code(),
    }
    row = Rdv(**{**data, **values})
    async with write_transaction():
        await row.save()
    return row


async def test_fifty_concurrent_overlapping_rdvs_of_one_agent_leave_exactly_one(
    cabinet: dict[str, Any],
) -> None:
    starts = [NEUF_HEURES + timedelta(minutes=i % 20) for i in range(50)]
    results = await asyncio.gather(
        *(insert_rdv(cabinet, start) for start in starts), return_exceptions=True
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 49
    assert all(is_chevauchement(f) for f in failures), failures[:3]
    assert await Rdv.count().where(Rdv.agent == cabinet["agent"].id) == 1


async def test_back_to_back_rdvs_do_not_overlap(cabinet: dict[str, Any]) -> None:
    await insert_rdv(cabinet, NEUF_HEURES + timedelta(days=1))
    await insert_rdv(cabinet, NEUF_HEURES + timedelta(days=1, minutes=30))
    assert await Rdv.count().where(Rdv.agent == cabinet["agent"].id) == 2


async def test_a_cancelled_rdv_frees_its_time_and_a_move_onto_a_taken_time_is_refused(
    cabinet: dict[str, Any],
) -> None:
    day = NEUF_HEURES + timedelta(days=2)
    first = await insert_rdv(cabinet, day)
    with pytest.raises(Exception) as refused:
        await insert_rdv(cabinet, day + timedelta(minutes=10))
    assert is_chevauchement(refused.value)
    async with write_transaction():
        await Rdv.update({Rdv.statut: "excuse"}).where(Rdv.id == first.id)
    second = await insert_rdv(cabinet, day + timedelta(minutes=10))
    later = await insert_rdv(cabinet, day + timedelta(hours=2))
    with pytest.raises(Exception) as moved:
        async with write_transaction():
            await Rdv.update({Rdv.debut: second.debut, Rdv.fin: second.fin}).where(
                Rdv.id == later.id
            )
    assert is_chevauchement(moved.value)
    # Reviving the cancelled rdv would overlap the one that took its place.
    with pytest.raises(Exception) as revived:
        async with write_transaction():
            await Rdv.update({Rdv.statut: "a_venir"}).where(Rdv.id == first.id)
    assert is_chevauchement(revived.value)


async def test_thirty_concurrent_sign_ups_to_a_collective_of_five_leave_five(
    cabinet: dict[str, Any],
) -> None:
    session = await insert_rdv(
        cabinet,
        NEUF_HEURES + timedelta(days=3),
        minutes=120,
        collectif=True,
        capacite=5,
        motif=cabinet["collectif"].id,
    )
    usagers = [await factories.usager(cabinet["territoire"]) for _ in range(30)]

    async def sign_up(usager_id: int) -> None:
        async with write_transaction():
            await RdvParticipant(rdv=session.id, usager=usager_id).save()

    results = await asyncio.gather(*(sign_up(u.id) for u in usagers), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 25 and all(is_complet(f) for f in failures), failures[:3]
    assert await RdvParticipant.count().where(RdvParticipant.rdv == session.id) == 5

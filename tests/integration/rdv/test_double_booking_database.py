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

from plateforme.db import is_unique_violation, write_transaction
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


async def insert_session(cabinet: dict[str, Any], days: int, capacite: int) -> Rdv:
    return await insert_rdv(
        cabinet,
        NEUF_HEURES + timedelta(days=days),
        minutes=120,
        collectif=True,
        capacite=capacite,
        motif=cabinet["collectif"].id,
    )


async def sign_up(session_id: int, usager_id: int, statut: str = "a_venir") -> RdvParticipant:
    row = RdvParticipant(rdv=session_id, usager=usager_id, statut=statut, code=factories.code())
    async with write_transaction():
        await row.save()
    return row


async def set_participant(participant_id: int, **values: Any) -> None:
    async with write_transaction():
        await RdvParticipant.update(
            {getattr(RdvParticipant, k): v for k, v in values.items()}
        ).where(RdvParticipant.id == participant_id)


def active(session_id: int) -> Any:
    return RdvParticipant.count().where(
        RdvParticipant.rdv == session_id, RdvParticipant.statut == "a_venir"
    )


async def test_thirty_concurrent_sign_ups_to_a_collective_of_five_leave_five_active_ones(
    cabinet: dict[str, Any],
) -> None:
    session = await insert_session(cabinet, days=3, capacite=5)
    # Three people who cancelled hold no seat.
    for _ in range(3):
        await sign_up(session.id, (await factories.usager(cabinet["territoire"])).id, "excuse")
    usagers = [await factories.usager(cabinet["territoire"]) for _ in range(30)]

    results = await asyncio.gather(
        *(sign_up(session.id, u.id) for u in usagers), return_exceptions=True
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert len(failures) == 25 and all(is_complet(f) for f in failures), failures[:3]
    assert await active(session.id) == 5


async def test_a_participant_who_cancels_frees_one_seat_and_cannot_come_back_into_a_full_session(
    cabinet: dict[str, Any],
) -> None:
    session = await insert_session(cabinet, days=4, capacite=2)
    people = [await factories.usager(cabinet["territoire"]) for _ in range(3)]
    first = await sign_up(session.id, people[0].id)
    await sign_up(session.id, people[1].id)
    with pytest.raises(Exception) as full:
        await sign_up(session.id, people[2].id)
    assert is_complet(full.value)

    await set_participant(first.id, statut="excuse")
    await sign_up(session.id, people[2].id)
    with pytest.raises(Exception) as back:
        await set_participant(first.id, statut="a_venir")
    assert is_complet(back.value)
    assert await active(session.id) == 2


async def test_changing_sessions_needs_a_seat_in_the_new_one_and_a_cancelled_session_takes_nobody(
    cabinet: dict[str, Any],
) -> None:
    full = await insert_session(cabinet, days=5, capacite=1)
    roomy = await insert_session(cabinet, days=6, capacite=3)
    moving = await sign_up(roomy.id, (await factories.usager(cabinet["territoire"])).id)
    await sign_up(full.id, (await factories.usager(cabinet["territoire"])).id)
    with pytest.raises(Exception) as refused:
        await set_participant(moving.id, rdv=full.id)
    assert is_complet(refused.value)

    other = await insert_session(cabinet, days=7, capacite=3)
    await set_participant(moving.id, rdv=other.id)
    assert await active(other.id) == 1 and await active(roomy.id) == 0

    async with write_transaction():
        await Rdv.update({Rdv.statut: "annule"}).where(Rdv.id == roomy.id)
    with pytest.raises(Exception) as cancelled:
        await sign_up(roomy.id, (await factories.usager(cabinet["territoire"])).id)
    assert is_complet(cancelled.value)


async def test_one_person_is_once_among_the_active_participants_and_codes_are_unique(
    cabinet: dict[str, Any],
) -> None:
    session = await insert_session(cabinet, days=8, capacite=5)
    person = await factories.usager(cabinet["territoire"])
    first = await sign_up(session.id, person.id)
    with pytest.raises(Exception) as twice:
        await sign_up(session.id, person.id)
    assert is_unique_violation(twice.value)
    await set_participant(first.id, statut="excuse")
    await sign_up(session.id, person.id)  # after cancelling, one may sign up again
    with pytest.raises(Exception) as same_code:
        async with write_transaction():
            await RdvParticipant(
                rdv=session.id,
                usager=(await factories.usager(cabinet["territoire"])).id,
                code=first.code,
            ).save()
    assert is_unique_violation(same_code.value)

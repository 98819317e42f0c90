"""After booking: the usager finds, cancels and moves their rdv; agents set statuses; all logged."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from plateforme.db import write_transaction
from plateforme.errors import Conflict, NotFound, TooManyRequests
from rdv.services import acces_usager, cycle
from rdv.services.reservation import DemandeRdv, Personne, reserver
from rdv.tables import Rdv, RdvHistorique
from tests import factories


@pytest.fixture
async def booked() -> dict[str, Any]:
    territoire = await factories.territoire()
    service = await factories.service(territoire)
    site = await factories.site(territoire, services=[service])
    agent = await factories.agent(territoire)
    motif = await factories.motif(service, delai_annulation_heures=24)
    await factories.plage(agent, site, [motif])
    rdv = await reserver(
        DemandeRdv(
            motif.id,
            site.id,
            factories.monday_at("09:00"),
            Personne("Élodie", "Le Goff", "06 12 34 56 78"),
        )
    )
    return {"rdv": rdv, "agent": agent, "site": site, "motif": motif}


async def history(rdv_id: int) -> list[tuple[str, str, str]]:
    rows = (
        await RdvHistorique.select().where(RdvHistorique.rdv == rdv_id).order_by(RdvHistorique.id)
    )
    return [(r["evenement"], r["statut"], r["acteur"]) for r in rows]


async def test_the_usager_finds_their_rdv_with_the_link_key_or_the_first_letters_of_their_name(
    booked: dict[str, Any],
) -> None:
    code = booked["rdv"].code
    by_key = await acces_usager.trouver(code, ip="10.0.0.1", cle_lien=acces_usager.cle(code))
    by_letters = await acces_usager.trouver(code.lower(), ip="10.0.0.1", lettres="le goff")
    assert by_key.id == by_letters.id == booked["rdv"].id
    with pytest.raises(NotFound) as wrong:
        await acces_usager.trouver(code, ip="10.0.0.1", lettres="MA")
    assert wrong.value.message == acces_usager.INTROUVABLE


async def test_guessing_codes_is_stopped_after_ten_misses_from_one_address(
    booked: dict[str, Any],
) -> None:
    ip = f"10.9.{booked['rdv'].id % 250}.1"
    for i in range(10):
        with pytest.raises(NotFound):
            await acces_usager.trouver(f"ZZZZZZ{i:02d}", ip=ip, lettres="LE")
    with pytest.raises(TooManyRequests):
        await acces_usager.trouver(booked["rdv"].code, ip=ip, lettres="LE")


async def test_the_usager_cancels_and_the_creneau_is_free_again(booked: dict[str, Any]) -> None:
    rdv = await acces_usager.trouver(booked["rdv"].code, ip="10.0.0.2", lettres="LE")
    cancelled = await acces_usager.annuler(rdv)
    assert cancelled.statut == "excuse" and cancelled.sequence == 1
    assert await history(rdv.id) == [("cree", "a_venir", "usager"), ("statut", "excuse", "usager")]
    again = await reserver(
        DemandeRdv(
            booked["motif"].id,
            booked["site"].id,
            factories.monday_at("09:00"),
            Personne("Sam", "Roy", "0612345679"),
        )
    )
    assert again.debut == booked["rdv"].debut


async def test_too_late_to_cancel_online(booked: dict[str, Any]) -> None:
    rdv = await acces_usager.trouver(booked["rdv"].code, ip="10.0.0.3", lettres="LE")
    almost_there = rdv.debut - timedelta(hours=3)
    with pytest.raises(Conflict) as refused:
        await acces_usager.annuler(rdv, maintenant=almost_there)
    assert "appelez le lieu" in refused.value.message
    assert (await Rdv.select(Rdv.statut).where(Rdv.id == rdv.id).first())["statut"] == "a_venir"  # type: ignore[index]


async def test_the_usager_moves_onto_a_free_creneau_only(booked: dict[str, Any]) -> None:
    rdv = await acces_usager.trouver(booked["rdv"].code, ip="10.0.0.4", lettres="LE")
    moved = await acces_usager.deplacer(rdv, factories.monday_at("10:30"))
    assert moved.debut == factories.monday_at("10:30").astimezone(UTC) and moved.sequence == 1
    assert await history(rdv.id) == [
        ("cree", "a_venir", "usager"),
        ("deplace", "a_venir", "usager"),
    ]
    other = await reserver(
        DemandeRdv(
            booked["motif"].id,
            booked["site"].id,
            factories.monday_at("11:00"),
            Personne("Sam", "Roy", "0612345679"),
        )
    )
    with pytest.raises(Conflict):
        await acces_usager.deplacer(moved, other.debut)


async def test_agents_set_statuses_within_the_allowed_transitions(booked: dict[str, Any]) -> None:
    rdv_id, agent = booked["rdv"].id, cycle.Acteur("agent", booked["agent"].id)
    with pytest.raises(Conflict) as too_early:
        await cycle.changer_statut(rdv_id, "vu", agent)
    assert too_early.value.code == "rdv_pas_commence"
    async with write_transaction():  # the rdv has now taken place
        past = datetime.now(UTC) - timedelta(days=1)
        await Rdv.update({Rdv.debut: past, Rdv.fin: past + timedelta(minutes=30)}).where(
            Rdv.id == rdv_id
        )
    await cycle.changer_statut(rdv_id, "vu", agent)
    await cycle.changer_statut(rdv_id, "absent", agent)  # a correction
    await cycle.changer_statut(rdv_id, "a_venir", agent)
    await cycle.changer_statut(rdv_id, "annule", agent, motif_annulation="Agent malade")
    with pytest.raises(Conflict):
        await cycle.changer_statut(rdv_id, "vu", agent)
    assert [h[1] for h in await history(rdv_id)] == ["a_venir", "vu", "absent", "a_venir", "annule"]
    assert {h[2] for h in (await history(rdv_id))[1:]} == {"agent"}


async def test_someone_guessing_codes_does_not_lock_out_people_who_have_their_link(
    booked: dict[str, Any],
) -> None:
    ip = f"10.8.{booked['rdv'].id % 250}.1"
    for i in range(10):
        with pytest.raises(NotFound):
            await acces_usager.trouver(f"YYYYYY{i:02d}", ip=ip, lettres="LE")
    code = booked["rdv"].code
    found = await acces_usager.trouver(code, ip=ip, cle_lien=acces_usager.cle(code))
    assert found.id == booked["rdv"].id


async def test_ten_agents_cancelling_one_rdv_at_once_cancel_it_once(booked: dict[str, Any]) -> None:
    """Several agents acting on one rdv at the same instant: the change applies once (a
    status it already has is no change), and the history and the messages record it once
    (both engines)."""
    from notifications.tables import Message

    rdv_id, agent = booked["rdv"].id, cycle.Acteur("agent", booked["agent"].id)
    await asyncio.gather(
        *(
            cycle.changer_statut(rdv_id, "annule", agent, motif_annulation="Fermeture")
            for _ in range(10)
        )
    )
    assert [h[1] for h in await history(rdv_id)] == ["a_venir", "annule"]
    annulations = await Message.count().where(Message.rdv == rdv_id, Message.genre == "annulation")
    assert annulations == 1

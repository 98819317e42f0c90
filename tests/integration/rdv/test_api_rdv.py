"""The JSON API of an rdv after booking: the usager's own (code and letters, or the link's
key) and the agent's day with the statuses they set."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from rdv.tables import Rdv, RdvHistorique
from tests import factories
from tests.integration.conftest import Browser
from tests.integration.rdv.test_booking_api import at, booking, cabinet, next_monday

__all__ = ["cabinet"]  # the fixture, shared with the booking tests

_addresses = itertools.count(1)


@pytest.fixture
def http(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A client with an address of its own: misses count per address (uvicorn takes
    X-Forwarded-For from 127.0.0.1)."""
    client.headers["X-Forwarded-For"] = f"10.{next(_addresses)}.{uuid.uuid4().int % 250}.2"
    return client


async def book(http: httpx.AsyncClient, cabinet: dict[str, Any], debut: datetime) -> str:
    response = await http.post("/api/rdv", json=booking(cabinet, debut, nom="Martin"))
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


async def id_of(code: str) -> int:
    row = await Rdv.select(Rdv.id).where(Rdv.code == code).first()
    assert row is not None
    return int(row["id"])


async def test_the_usager_sees_their_rdv_with_the_letters_and_gets_the_links_key(
    http: httpx.AsyncClient, cabinet: dict[str, Any]
) -> None:
    debut = at(next_monday(2), "09:30")
    code = await book(http, cabinet, debut)
    found = await http.get(f"/api/rdv/{code}", params={"lettres": "ma"})
    assert found.status_code == 200, found.text
    rdv = found.json()
    assert rdv["code"] == code and rdv["statut"] == "a_venir"
    assert datetime.fromisoformat(rdv["debut"]) == debut
    assert rdv["annulable"] and rdv["deplacable"] and rdv["raison"] == "", rdv
    assert rdv["site"]["id"] == cabinet["site"].id
    assert rdv["pour"] == "Camille Martin"
    assert found.headers["cache-control"] == "no-store", "a name and a key: no cache keeps them"
    named = await http.get(f"/api/rdv/{code}", params={"lettres": "Martin"})
    assert named.status_code == 422, "never a whole name in a URL (access logs)"
    assert "telephone" not in rdv and "agent" not in rdv, "nothing beyond the usager's own"
    by_key = await http.get(f"/api/rdv/{code}", params={"cle": rdv["cle"]})
    assert by_key.status_code == 200 and by_key.json()["code"] == code

    for wrong in ({"lettres": "DU"}, {"cle": "x" * 16}, {"lettres": "DU", "cle": "y" * 16}):
        miss = await http.get(f"/api/rdv/{code}", params=wrong)
        assert miss.status_code == 404, wrong
        assert miss.json()["code"] == "rdv_introuvable"
    unknown = await http.get("/api/rdv/ZZZZZZZZ", params={"lettres": "MA"})
    assert unknown.status_code == 404
    assert unknown.json()["message"] == miss.json()["message"], "the same answer for every miss"
    incomplete = await http.get(f"/api/rdv/{code}")
    assert incomplete.status_code == 422 and incomplete.json()["code"] == "acces_incomplet"


async def test_ten_misses_from_one_address_are_stopped_with_a_429_even_for_a_right_guess(
    http: httpx.AsyncClient, cabinet: dict[str, Any]
) -> None:
    code = await book(http, cabinet, at(next_monday(2), "10:00"))
    for i in range(10):
        miss = await http.get(f"/api/rdv/ZZZZZZ{i:02d}", params={"lettres": "MA"})
        assert miss.status_code == 404
    stopped = await http.get(f"/api/rdv/{code}", params={"lettres": "MA"})
    assert stopped.status_code == 429 and stopped.headers["retry-after"] == "900"
    key = (await http.get(f"/api/rdv/{code}", params={"cle": "nope"})).status_code
    assert key == 429


async def test_the_usager_moves_then_cancels_through_the_api_and_each_change_is_logged(
    http: httpx.AsyncClient, cabinet: dict[str, Any]
) -> None:
    monday = next_monday(2)
    code = await book(http, cabinet, at(monday, "09:00"))
    await book(http, cabinet, at(monday, "11:00"))  # someone else's

    taken = await http.post(
        f"/api/rdv/{code}/deplacement",
        json={"lettres": "MA", "debut": at(monday, "11:00").isoformat()},
    )
    assert taken.status_code == 409, taken.text
    assert taken.json()["code"] == "creneau_indisponible"
    assert taken.json()["prochains_creneaux"][0]["debut"][11:16] == "11:30"
    odd = await http.post(
        f"/api/rdv/{code}/deplacement",
        json={"lettres": "MA", "debut": at(monday, "09:10").isoformat()},
    )
    assert odd.status_code == 422, "09:10 is not a créneau of the grid"

    moved = await http.post(
        f"/api/rdv/{code}/deplacement",
        json={"lettres": "MA", "debut": at(monday, "10:30").isoformat()},
    )
    assert moved.status_code == 200, moved.text
    assert datetime.fromisoformat(moved.json()["debut"]) == at(monday, "10:30")

    cancelled = await http.post(f"/api/rdv/{code}/annulation", json={"cle": moved.json()["cle"]})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["statut"] == "excuse" and not cancelled.json()["annulable"]
    again = await http.post(f"/api/rdv/{code}/annulation", json={"lettres": "MA"})
    assert again.status_code == 409 and again.json()["code"] == "annulation_impossible"

    row = await Rdv.objects().where(Rdv.code == code).first()
    assert row is not None and row.statut == "excuse"
    history = (
        await RdvHistorique.select(RdvHistorique.evenement, RdvHistorique.statut)
        .where(RdvHistorique.rdv == row.id)
        .order_by(RdvHistorique.id)
    )
    assert [(h["evenement"], h["statut"]) for h in history] == [
        ("cree", "a_venir"),
        ("deplace", "a_venir"),
        ("statut", "excuse"),
    ]


async def test_too_late_to_cancel_online_is_a_409_and_changes_nothing(
    http: httpx.AsyncClient, cabinet: dict[str, Any]
) -> None:
    code = await book(http, cabinet, at(next_monday(2), "09:30"))
    soon = datetime.now(at(next_monday(2), "09:30").tzinfo) + timedelta(hours=2)
    await Rdv.update({Rdv.debut: soon, Rdv.fin: soon + timedelta(minutes=30)}).where(
        Rdv.code == code
    )
    seen = (await http.get(f"/api/rdv/{code}", params={"lettres": "MA"})).json()
    assert not seen["annulable"] and seen["raison"].startswith("Moins de")
    refused = await http.post(f"/api/rdv/{code}/annulation", json={"lettres": "MA"})
    assert refused.status_code == 409 and refused.json()["message"].startswith("Moins de")
    assert await Rdv.count().where(Rdv.code == code, Rdv.statut == "a_venir") == 1


async def test_the_agent_reads_the_day_and_sets_statuses_through_the_api(
    new_browser: Any, http: httpx.AsyncClient, cabinet: dict[str, Any]
) -> None:
    monday = next_monday(2)
    code = await book(http, cabinet, at(monday, "09:30"))
    rdv_id = await id_of(code)
    agent: Browser = new_browser()
    await agent.sign_in(cabinet["agent"].email)

    day = await agent.http.get("/api/agenda", params={"jour": monday.isoformat()})
    assert day.status_code == 200, day.text
    body = day.json()
    assert body["agent_id"] == cabinet["agent"].id and body["jour"] == monday.isoformat()
    [rdv] = body["rdvs"]
    assert rdv["id"] == rdv_id and rdv["statut"] == "a_venir"
    assert rdv["participants"][0]["nom"] == "Camille Martin"
    assert rdv["participants"][0]["telephone"] == "+33612345678"
    assert rdv["transitions"] == ["vu", "absent", "annule"]

    early = await agent.post_json(f"/api/agenda/rdv/{rdv_id}/statut", {"statut": "vu"})
    assert early.status_code == 409 and early.json()["code"] == "rdv_pas_commence"
    unknown = await agent.post_json(f"/api/agenda/rdv/{rdv_id}/statut", {"statut": "parti"})
    assert unknown.status_code == 422
    no_csrf = await agent.http.post(f"/api/agenda/rdv/{rdv_id}/statut", json={"statut": "annule"})
    assert no_csrf.status_code == 403, "a write needs the CSRF header"
    done = await agent.post_json(
        f"/api/agenda/rdv/{rdv_id}/statut", {"statut": "annule", "motif": "Agent absent"}
    )
    assert done.status_code == 200, done.text
    assert done.json()["statut"] == "annule" and done.json()["transitions"] == []
    seen = (await http.get(f"/api/rdv/{code}", params={"lettres": "MA"})).json()
    assert seen["statut"] == "annule"


async def test_the_agenda_api_refuses_strangers_and_other_agents(
    new_browser: Any, http: httpx.AsyncClient, cabinet: dict[str, Any]
) -> None:
    monday = next_monday(2)
    code = await book(http, cabinet, at(monday, "09:30"))
    rdv_id = await id_of(code)
    anonymous = await http.get("/api/agenda")
    assert anonymous.status_code == 401
    collegue = await factories.agent(
        cabinet["territoire"], services=[cabinet["service"]], sites=[cabinet["site"]]
    )
    ailleurs = await factories.agent(await factories.territoire(), role="admin")
    for who, expected in ((collegue, 403), (ailleurs, 404)):
        browser: Browser = new_browser()
        await browser.sign_in(who.email)
        refused = await browser.post_json(f"/api/agenda/rdv/{rdv_id}/statut", {"statut": "annule"})
        assert refused.status_code == expected, who.email
    other_day = await browser.http.get("/api/agenda", params={"agent": cabinet["agent"].id})
    assert other_day.status_code == 404, "another territoire's agent is not found"
    assert await Rdv.count().where(Rdv.id == rdv_id, Rdv.statut == "a_venir") == 1


async def test_the_openapi_documents_the_rdv_api_with_examples(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/schema/openapi.json")).json()
    operations = {
        op["operationId"]: (path, method, op)
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
    }
    for name in (
        "motifsEnLigne",
        "sitesDisponibles",
        "semaineCreneaux",
        "reserverRdv",
        "voirRdv",
        "annulerRdv",
        "deplacerRdv",
        "agendaDuJour",
        "changerStatutRdv",
        "changerStatutParticipant",
    ):
        assert name in operations, name
        assert operations[name][2].get("description"), f"{name} says what it does"
    schemas = spec["components"]["schemas"]
    for name, field in (
        ("RdvCreate", "debut"),
        ("DeplacementRdv", "debut"),
        ("StatutIn", "statut"),
    ):
        assert schemas[name]["properties"][field].get("examples"), (name, field)

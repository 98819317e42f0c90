"""Collective sessions on a real server: agents open them, the public joins one seat at a
time with a code of its own, and a session never holds more people than its seats."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from rdv.services import reservation
from rdv.tables import Rdv, RdvParticipant
from tests import factories

PERSONNE = {"prenom": "Camille", "nom": "Martin", "telephone": "06 12 34 56 78"}


@pytest.fixture
async def atelier() -> dict[str, Any]:
    """A collective motif of three seats, a session on Monday 14:00 and one on Tuesday."""
    territoire = await factories.territoire()
    code = factories.unique("pmi").replace(" ", "").lower()
    service = await factories.service(territoire, code=code, nom="Protection maternelle")
    site = await factories.site(territoire, services=[service], nom=factories.unique("PMI"))
    agent = await factories.agent(territoire, services=[service], sites=[site], prenom="Rose")
    motif = await factories.motif(
        service,
        nom=factories.unique("Atelier portage"),
        duree_minutes=90,
        collectif=True,
        capacite=3,
    )
    # A plage offering the motif: a collective motif is not booked on plages.
    await factories.plage(agent, site, [motif], heure_debut="09:00", heure_fin="12:00")
    lundi, mardi = factories.monday_at("14:00"), factories.monday_at("14:00") + timedelta(days=1)
    sessions = [await ouvrir(motif, site, agent, debut) for debut in (lundi, mardi)]
    return {
        "territoire": territoire,
        "service": service,
        "site": site,
        "agent": agent,
        "motif": motif,
        "lundi": lundi,
        "mardi": mardi,
        "sessions": sessions,
    }


async def ouvrir(motif: Any, site: Any, agent: Any, debut: datetime) -> int:
    cree = await reservation.ouvrir_session(
        motif.id, site.id, agent.id, debut, agent_createur_id=agent.id
    )
    return cree.id


def seat(atelier: dict[str, Any], debut: datetime, **usager: str) -> dict[str, Any]:
    return {
        "motif_id": atelier["motif"].id,
        "site_id": atelier["site"].id,
        "debut": debut.isoformat(),
        "usager": {**PERSONNE, **usager},
    }


async def week(client: httpx.AsyncClient, atelier: dict[str, Any]) -> list[tuple[str, int]]:
    url = f"/api/motifs/{atelier['motif'].id}/sites/{atelier['site'].id}/creneaux"
    response = await client.get(url, params={"du": atelier["lundi"].date().isoformat()})
    assert response.status_code == 200, response.text
    return [
        (c["debut"][:16], c["places"])
        for jour in response.json()["jours"]
        for c in jour["creneaux"]
    ]


def iso_minute(moment: datetime) -> str:
    return moment.isoformat()[:16]


def active_seats(session_id: int) -> Any:
    return RdvParticipant.count().where(
        RdvParticipant.rdv == session_id, RdvParticipant.statut == "a_venir"
    )


async def test_the_week_offers_the_sessions_with_their_seats_left_and_never_a_full_one(
    client: httpx.AsyncClient, atelier: dict[str, Any]
) -> None:
    lundi, mardi = atelier["lundi"], atelier["mardi"]
    # Only the sessions: not the plage's morning grid.
    assert await week(client, atelier) == [(iso_minute(lundi), 3), (iso_minute(mardi), 3)]
    for i in range(2):
        booked = await client.post("/api/rdv", json=seat(atelier, lundi, nom=f"Martin{i}"))
        assert booked.status_code == 201, booked.text
    assert await week(client, atelier) == [(iso_minute(lundi), 1), (iso_minute(mardi), 3)]
    assert (
        await client.post("/api/rdv", json=seat(atelier, lundi, nom="Dernier"))
    ).status_code == 201
    assert await week(client, atelier) == [(iso_minute(mardi), 3)]

    nearby = await client.get(
        f"/api/motifs/{atelier['motif'].id}/sites", params={"commune": "31555", "limite": 20}
    )
    mine = next(s for s in nearby.json() if s["id"] == atelier["site"].id)
    assert mine["prochain_creneau"]["debut"][:16] == iso_minute(mardi)
    assert mine["prochain_creneau"]["places"] == 3


async def test_twenty_concurrent_bookings_of_a_session_of_three_give_three_seats_and_seventeen_409(
    server: str, atelier: dict[str, Any]
) -> None:
    lundi = atelier["lundi"]
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=server, timeout=60, limits=limits) as http:
        responses = await asyncio.gather(
            *(
                http.post("/api/rdv", json=seat(atelier, lundi, nom=f"Personne{i}"))
                for i in range(20)
            )
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 3 + [409] * 17, [r.text for r in responses if r.status_code >= 500]
    refused = next(r.json() for r in responses if r.status_code == 409)
    assert refused["code"] == "session_complete"
    assert refused["message"] == "Cette session est complète. Choisissez-en une autre."
    assert [(c["debut"][:16], c["places"]) for c in refused["prochains_creneaux"]] == [
        (iso_minute(atelier["mardi"]), 3)
    ]
    session_id = atelier["sessions"][0]
    assert await RdvParticipant.count().where(RdvParticipant.rdv == session_id) == 3
    codes = {r.json()["code"] for r in responses if r.status_code == 201}
    session_code = (await Rdv.select(Rdv.code).where(Rdv.id == session_id).first())["code"]
    assert len(codes) == 3 and session_code not in codes, "each seat has its own code"
    assert await Rdv.count().where(Rdv.motif == atelier["motif"].id) == 2, "no new session"


async def test_a_time_without_a_session_is_no_creneau_and_one_person_is_once_in_a_session(
    client: httpx.AsyncClient, atelier: dict[str, Any]
) -> None:
    nowhere = await client.post(
        "/api/rdv", json=seat(atelier, atelier["lundi"].replace(hour=9, minute=0))
    )
    assert nowhere.status_code == 422 and nowhere.json()["code"] == "creneau_invalide"
    assert (await client.post("/api/rdv", json=seat(atelier, atelier["lundi"]))).status_code == 201
    again = await client.post("/api/rdv", json=seat(atelier, atelier["lundi"], nom="MARTIN"))
    assert again.status_code == 409 and again.json()["code"] == "deja_inscrit"
    assert await active_seats(atelier["sessions"][0]) == 1

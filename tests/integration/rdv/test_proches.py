"""Booking for a relative (proche): the usager who books is the contact, the relative comes,
and the agent sees both; through the API and the form without JavaScript."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from rdv.tables import Rdv, RdvParticipant, Usager
from tests import factories

CAMILLE = {"prenom": "Camille", "nom": "Martin", "telephone": "06 12 34 56 78"}


@pytest.fixture
async def cabinet() -> dict[str, Any]:
    territoire = await factories.territoire()
    service = await factories.service(territoire)
    site = await factories.site(territoire, services=[service])
    agent = await factories.agent(territoire, services=[service], sites=[site])
    motif = await factories.motif(service)
    await factories.plage(agent, site, [motif], heure_debut="09:00", heure_fin="12:00")
    return {"territoire": territoire, "site": site, "agent": agent, "motif": motif}


def booking(cabinet: dict[str, Any], hhmm: str, proche: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "motif_id": cabinet["motif"].id,
        "site_id": cabinet["site"].id,
        "debut": factories.monday_at(hhmm).isoformat(),
        "usager": CAMILLE,
        "proche": proche,
    }


async def usagers(cabinet: dict[str, Any]) -> list[dict[str, Any]]:
    return await Usager.select(
        Usager.id, Usager.prenom, Usager.nom, Usager.telephone, Usager.responsable,
        Usager.date_naissance,
    ).where(Usager.territoire == cabinet["territoire"].id).order_by(Usager.id)  # fmt: skip


async def test_a_booking_for_a_relative_makes_them_the_participant_and_the_usager_their_contact(
    client: httpx.AsyncClient, cabinet: dict[str, Any]
) -> None:
    response = await client.post(
        "/api/rdv",
        json=booking(cabinet, "09:00", {"prenom": "Léa", "nom": "Martin", "date_naissance": None}),
    )
    assert response.status_code == 201, response.text
    assert response.json()["pour"] == "Léa Martin"
    camille, lea = await usagers(cabinet)
    assert (camille["prenom"], camille["telephone"], camille["responsable"]) == (
        "Camille",
        "+33612345678",
        None,
    )
    assert (lea["prenom"], lea["telephone"], lea["responsable"]) == ("Léa", "", camille["id"])
    place = (
        await RdvParticipant.objects().where(RdvParticipant.code == response.json()["code"]).first()
    )
    assert place is not None and place.usager == lea["id"]

    # The same relative again (whatever the case), now with a birth date: the same row.
    again = await client.post(
        "/api/rdv",
        json=booking(
            cabinet, "10:00", {"prenom": "LÉA", "nom": "martin", "date_naissance": "2024-05-14"}
        ),
    )
    assert again.status_code == 201, again.text
    rows = await usagers(cabinet)
    assert len(rows) == 2 and rows[1]["date_naissance"] == date(2024, 5, 14)
    other_child = await client.post(
        "/api/rdv", json=booking(cabinet, "10:30", {"prenom": "Noé", "nom": "Martin"})
    )
    assert other_child.status_code == 201
    assert [(u["prenom"], u["responsable"]) for u in await usagers(cabinet)] == [
        ("Camille", None),
        ("Léa", camille["id"]),
        ("Noé", camille["id"]),
    ]
    themselves = await client.post("/api/rdv", json=booking(cabinet, "11:00", None))
    assert themselves.json()["pour"] == "Camille Martin" and len(await usagers(cabinet)) == 3


@pytest.mark.parametrize(
    ("proche", "fields"),
    [
        ({"prenom": " ", "nom": ""}, {"proche_prenom", "proche_nom"}),
        (
            {
                "prenom": "Léa",
                "nom": "Martin",
                "date_naissance": str(date.today() + timedelta(days=3)),
            },
            {"proche_date_naissance"},
        ),
        (
            {"prenom": "Léa", "nom": "Martin", "date_naissance": "1890-01-01"},
            {"proche_date_naissance"},
        ),
    ],
)
async def test_a_bad_relative_is_refused_in_french_with_the_fields_named_and_nothing_is_booked(
    client: httpx.AsyncClient, cabinet: dict[str, Any], proche: dict[str, Any], fields: set[str]
) -> None:
    response = await client.post("/api/rdv", json=booking(cabinet, "09:30", proche))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "donnees_invalides" and set(body["fields"]) == fields
    assert all(" " in message for message in body["fields"].values())  # sentences, in French
    assert await Rdv.count().where(Rdv.agent == cabinet["agent"].id) == 0
    assert await usagers(cabinet) == []


async def test_an_unreadable_birth_date_in_the_api_is_a_422_on_that_field(
    client: httpx.AsyncClient, cabinet: dict[str, Any]
) -> None:
    response = await client.post(
        "/api/rdv",
        json=booking(
            cabinet, "09:30", {"prenom": "Léa", "nom": "Martin", "date_naissance": "14/05"}
        ),
    )
    assert response.status_code == 422
    assert "date_naissance" in str(response.json()["fields"])

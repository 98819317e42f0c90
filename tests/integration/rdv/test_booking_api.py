"""Booking through the public API: the grid of créneaux, one rdv per créneau, clear refusals."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from plateforme.db import write_transaction
from rdv.tables import PlageOuverture, Rdv, RdvHistorique
from tests import factories

PARIS = ZoneInfo("Europe/Paris")


def next_monday(weeks: int = 1) -> date:
    today = date.today()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7) + timedelta(weeks=weeks - 1)


@pytest.fixture
async def cabinet() -> dict[str, Any]:
    territoire = await factories.territoire()
    service = await factories.service(territoire)
    site = await factories.site(territoire, services=[service])
    agent = await factories.agent(territoire, services=[service], sites=[site])
    motif = await factories.motif(
        service, duree_minutes=30, delai_min_minutes=60, delai_max_jours=60
    )
    await factories.plage(agent, site, [motif], heure_debut="09:00", heure_fin="12:00")
    return {
        "territoire": territoire,
        "service": service,
        "site": site,
        "agent": agent,
        "motif": motif,
    }


def booking(cabinet: dict[str, Any], debut: datetime, **usager: str) -> dict[str, Any]:
    person = {"prenom": "Camille", "nom": "Martin", "telephone": "06 12 34 56 78", **usager}
    return {
        "motif_id": cabinet["motif"].id,
        "site_id": cabinet["site"].id,
        "debut": debut.isoformat(),
        "usager": person,
    }


def at(day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=PARIS)


async def test_the_week_view_offers_the_grid_of_the_plage(
    client: httpx.AsyncClient, cabinet: dict[str, Any]
) -> None:
    monday = next_monday()
    url = f"/api/motifs/{cabinet['motif'].id}/sites/{cabinet['site'].id}/creneaux"
    week = (await client.get(url, params={"du": monday.isoformat(), "jours": 7})).json()
    assert [d["jour"] for d in week["jours"]][:2] == ["lundi", "mardi"]
    starts = [c["debut"][11:16] for c in week["jours"][0]["creneaux"]]
    assert starts == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
    assert week["jours"][5]["creneaux"] == []  # Saturday


async def test_a_booked_creneau_leaves_the_week_view_and_is_logged(
    client: httpx.AsyncClient, cabinet: dict[str, Any]
) -> None:
    monday = next_monday()
    response = await client.post("/api/rdv", json=booking(cabinet, at(monday, "09:30")))
    assert response.status_code == 201, response.text
    rdv = response.json()
    assert len(rdv["code"]) == 8 and rdv["statut"] == "a_venir"
    assert rdv["debut"].startswith(f"{monday.isoformat()}T09:30:00+01:00") or rdv[
        "debut"
    ].startswith(f"{monday.isoformat()}T09:30:00+02:00")
    url = f"/api/motifs/{cabinet['motif'].id}/sites/{cabinet['site'].id}/creneaux"
    week = (await client.get(url, params={"du": monday.isoformat(), "jours": 1})).json()
    assert [c["debut"][11:16] for c in week["jours"][0]["creneaux"]] == [
        "09:00",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
    ]
    row = await Rdv.objects().where(Rdv.code == rdv["code"]).first()
    assert row is not None
    history = await RdvHistorique.select().where(RdvHistorique.rdv == row.id)
    assert [(h["evenement"], h["statut"], h["acteur"]) for h in history] == [
        ("cree", "a_venir", "usager")
    ]


async def test_fifty_concurrent_bookings_of_one_creneau_give_one_rdv_and_forty_nine_409(
    server: str, cabinet: dict[str, Any]
) -> None:
    debut = at(next_monday(2), "10:00")
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=server, timeout=60, limits=limits) as http:
        responses = await asyncio.gather(
            *(
                http.post("/api/rdv", json=booking(cabinet, debut, nom=f"Personne{i}"))
                for i in range(50)
            )
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 49, statuses
    refused = next(r.json() for r in responses if r.status_code == 409)
    assert refused["code"] == "creneau_indisponible"
    assert refused["prochains_creneaux"], "a 409 offers the next free créneaux"
    assert refused["prochains_creneaux"][0]["debut"][11:16] == "10:30"
    assert await Rdv.count().where(Rdv.agent == cabinet["agent"].id, Rdv.debut == debut) == 1


@pytest.mark.parametrize(
    ("when", "usager", "status", "code", "field"),
    [
        ("10:10", {}, 422, "creneau_invalide", "debut"),  # not on the grid
        ("13:00", {}, 422, "creneau_invalide", "debut"),  # outside the plage
        (
            "09:00",
            {"telephone": "05 61 00 00 00"},
            422,
            "donnees_invalides",
            "telephone",
        ),  # a landline
        (
            "09:00",
            {"telephone": "447911123456"},
            422,
            "donnees_invalides",
            "telephone",
        ),  # foreign without +
        ("09:00", {"prenom": " "}, 422, "donnees_invalides", "prenom"),
        ("09:00", {"email": "pas-un-email"}, 422, "donnees_invalides", "email"),
    ],
)
async def test_bad_bookings_are_refused_with_a_reason_and_change_nothing(
    client: httpx.AsyncClient,
    cabinet: dict[str, Any],
    when: str,
    usager: dict[str, str],
    status: int,
    code: str,
    field: str,
) -> None:
    response = await client.post(
        "/api/rdv", json=booking(cabinet, at(next_monday(3), when), **usager)
    )
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and field in body["fields"]
    assert await Rdv.count().where(Rdv.agent == cabinet["agent"].id) == 0


async def test_past_and_too_far_creneaux_are_refused(
    client: httpx.AsyncClient, cabinet: dict[str, Any]
) -> None:
    past = await client.post(
        "/api/rdv", json=booking(cabinet, at(next_monday() - timedelta(days=14), "09:00"))
    )
    assert past.status_code == 422 and past.json()["code"] == "creneau_passe"
    far = await client.post("/api/rdv", json=booking(cabinet, at(next_monday(12), "09:00")))
    assert far.status_code == 422 and far.json()["code"] == "hors_delai"
    assert await Rdv.count().where(Rdv.agent == cabinet["agent"].id) == 0


async def test_unknown_motif_or_a_site_without_the_motif_is_a_404(
    client: httpx.AsyncClient, cabinet: dict[str, Any]
) -> None:
    other_site = await factories.site(cabinet["territoire"])
    payload = booking(cabinet, at(next_monday(), "09:00"))
    assert (await client.post("/api/rdv", json={**payload, "motif_id": 999_999})).status_code == 404
    wrong_site = await client.post("/api/rdv", json={**payload, "site_id": other_site.id})
    assert wrong_site.status_code == 404 and wrong_site.json()["code"] == "site_inconnu"
    malformed = await client.post("/api/rdv", json={**payload, "debut": "demain"})
    assert malformed.status_code == 422 and "debut" in str(malformed.json()["fields"])


async def test_nearby_sites_come_with_their_next_free_creneau_sorted_either_way(
    client: httpx.AsyncClient, cabinet: dict[str, Any]
) -> None:
    far = await factories.site(
        cabinet["territoire"],
        services=[cabinet["service"]],
        nom="Loin mais libre",
        latitude=43.70,
        longitude=1.60,
    )
    busy_agent = await factories.agent(cabinet["territoire"])
    # The near site (the fixture's) opens only in three weeks; the far one next week.
    await factories.plage(busy_agent, far, [cabinet["motif"]], premier_jour=next_monday())
    near_id = cabinet["site"].id
    async with write_transaction():
        await PlageOuverture.update({PlageOuverture.premier_jour: next_monday(3)}).where(
            PlageOuverture.site == near_id
        )
    url = f"/api/motifs/{cabinet['motif'].id}/sites"
    by_distance = (await client.get(url, params={"commune": "31555"})).json()
    assert [s["id"] for s in by_distance] == [near_id, far.id]
    assert by_distance[0]["prochain_creneau"]["debut"].startswith(next_monday(3).isoformat())
    by_availability = (
        await client.get(url, params={"commune": "31555", "tri": "disponibilite"})
    ).json()
    assert [s["id"] for s in by_availability] == [far.id, near_id]
    bad = await client.get(url, params={"commune": "31555", "tri": "hasard"})
    assert bad.status_code == 422 and "tri" in bad.json()["fields"]


async def test_with_two_agents_free_fifty_concurrent_bookings_give_one_rdv_each_and_no_error(
    server: str, cabinet: dict[str, Any]
) -> None:
    second = await factories.agent(cabinet["territoire"])
    await factories.plage(
        second, cabinet["site"], [cabinet["motif"]], heure_debut="09:00", heure_fin="12:00"
    )
    debut = at(next_monday(4), "11:00")
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=server, timeout=60, limits=limits) as http:
        responses = await asyncio.gather(
            *(
                http.post("/api/rdv", json=booking(cabinet, debut, nom=f"Client{i}"))
                for i in range(50)
            )
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 201] + [409] * 48, statuses
    booked = await Rdv.select(Rdv.agent).where(Rdv.debut == debut, Rdv.site == cabinet["site"].id)
    assert sorted(r["agent"] for r in booked) == sorted([cabinet["agent"].id, second.id])

"""The public directory API over HTTP: communes, nearest sites, one site, and their errors."""

from __future__ import annotations

import httpx

from tests import factories
from tests.integration.sites.test_proximite import commune, site_a, territoire_et_service


async def test_communes_answers_the_autocompletion_with_public_fields(
    client: httpx.AsyncClient,
) -> None:
    await commune("chateau-thierry")

    response = await client.get("/api/communes", params={"q": "château-thi"})

    assert response.status_code == 200
    assert {
        "insee": "02168",
        "nom": "Château-Thierry",
        "departement": "02",
        "codes_postaux": ["02400"],
        "latitude": 49.046001,
        "longitude": 3.40271,
    } in response.json()


async def test_communes_refuses_a_one_letter_query_with_the_field(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/communes", params={"q": "c"})

    assert response.status_code == 422
    assert "q" in response.json()["fields"]


async def test_sites_proches_answers_nearest_first_with_rounded_distances_and_the_week(
    client: httpx.AsyncClient,
) -> None:
    await commune("toulouse")
    territoire, service, code = await territoire_et_service()
    await site_a("muret", territoire, [service])
    await site_a("colomiers", territoire, [service])

    response = await client.get("/api/sites/proches", params={"service": code, "commune": "31555"})

    assert response.status_code == 200
    body = response.json()
    assert body["point"]["commune"]["nom"] == "Toulouse"
    assert [s["nom"] for s in body["sites"]] == ["colomiers", "muret"]
    first = body["sites"][0]
    assert first["distance_km"] == round(first["distance_km"], 1)
    assert 8 < first["distance_km"] < 10
    assert len(first["horaires_semaine"]) == 7
    assert set(first["horaires_semaine"][0]) == {"date", "jour", "ouvert", "plages", "raison"}


async def test_sites_proches_maps_a_place_given_twice_or_out_of_range_to_422_with_the_field(
    client: httpx.AsyncClient,
) -> None:
    twice = await client.get(
        "/api/sites/proches", params={"service": "pmi", "commune": "31555", "code_postal": "31000"}
    )
    too_far_north = await client.get(
        "/api/sites/proches", params={"service": "pmi", "lat": "91", "lon": "1"}
    )
    too_many = await client.get(
        "/api/sites/proches", params={"service": "pmi", "commune": "31555", "limite": "51"}
    )

    assert (twice.status_code, too_far_north.status_code, too_many.status_code) == (422, 422, 422)
    assert "code_postal" in twice.json()["fields"]
    assert "lat" in too_far_north.json()["fields"]
    assert "limite" in too_many.json()["fields"]


async def test_sites_proches_says_an_unknown_postcode_is_not_found(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/api/sites/proches", params={"service": "pmi", "code_postal": "00000"}
    )

    assert response.status_code == 404
    assert response.json()["code"] == "commune_inconnue"


async def test_a_public_site_shows_no_agent_and_an_inactive_one_is_not_found(
    client: httpx.AsyncClient,
) -> None:
    territoire, service, _ = await territoire_et_service()
    site = await site_a("muret", territoire, [service], email="accueil@exemple.fr")
    agent = await factories.agent(territoire, sites=[site], services=[service])
    inactive = await site_a("colomiers", territoire, [service], actif=False)

    response = await client.get(f"/api/sites/{site.id}")
    missing = await client.get(f"/api/sites/{inactive.id}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == site.id
    assert body["services"] == [{"code": service.code, "nom": service.nom}]
    for personal in (agent.nom, agent.email, "accueil@exemple.fr", "mot_de_passe"):
        assert personal not in response.text
    assert missing.status_code == 404

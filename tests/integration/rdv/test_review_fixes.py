"""Defects found in review: each test reproduces one and fails if it comes back."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from plateforme.errors import Conflict
from rdv.services import acces_usager
from rdv.services.reservation import DemandeRdv, Personne, reserver
from rdv.tables import CanalCreation, PlageOuverture, Usager
from sites.tables import AgentSite
from tests import factories
from tests.integration.conftest import Browser


@pytest.fixture
async def cabinet() -> dict[str, Any]:
    territoire = await factories.territoire()
    service = await factories.service(territoire)
    site = await factories.site(territoire, services=[service])
    agent = await factories.agent(territoire, sites=[site], services=[service])
    motif = await factories.motif(service)
    await factories.plage(agent, site, [motif])
    return {
        "territoire": territoire,
        "service": service,
        "site": site,
        "agent": agent,
        "motif": motif,
    }


async def test_a_later_booking_with_the_same_name_and_phone_cannot_replace_the_usagers_email(
    cabinet: dict[str, Any],
) -> None:
    who = ("Marie", "Durand", "06 11 22 33 44")
    await reserver(
        DemandeRdv(
            cabinet["motif"].id,
            cabinet["site"].id,
            factories.monday_at("09:00"),
            Personne(*who, "marie@exemple.fr"),
        )
    )
    await reserver(
        DemandeRdv(
            cabinet["motif"].id,
            cabinet["site"].id,
            factories.monday_at("10:00"),
            Personne(*who, "evil@attacker.example"),
        )
    )
    rows = await Usager.select(Usager.email).where(Usager.territoire == cabinet["territoire"].id)
    assert [row["email"] for row in rows] == ["marie@exemple.fr"]


async def test_the_usager_cannot_move_an_rdv_whose_motif_only_agents_book(
    cabinet: dict[str, Any],
) -> None:
    agent_only = await factories.motif(cabinet["service"], reservable_en_ligne=False)
    await factories.plage(
        cabinet["agent"], cabinet["site"], [agent_only], heure_debut="14:00", heure_fin="17:00"
    )
    booked = await reserver(
        DemandeRdv(
            agent_only.id,
            cabinet["site"].id,
            factories.monday_at("14:00"),
            Personne("Lou", "Roy", "0612345678"),
            agent_id=cabinet["agent"].id,
            canal=CanalCreation.agent,
            agent_createur_id=cabinet["agent"].id,
        )
    )
    rdv = await acces_usager.trouver(
        booked.code, ip="10.7.0.1", cle_lien=acces_usager.cle(booked.code)
    )
    with pytest.raises(Conflict):
        await acces_usager.deplacer(rdv, factories.monday_at("15:00"))


@pytest.mark.parametrize(
    "path",
    [
        "/api/motifs/{motif}/sites/{site}/creneaux?du=9999-12-31",
        "/api/motifs/{motif}/sites/{site}/creneaux?du=0001-01-01",
        "/api/motifs/99999999999999999999/sites/{site}/creneaux",
    ],
)
async def test_out_of_range_dates_and_ids_are_a_422_not_a_server_error(
    client: httpx.AsyncClient, cabinet: dict[str, Any], path: str
) -> None:
    response = await client.get(path.format(motif=cabinet["motif"].id, site=cabinet["site"].id))
    assert response.status_code in (404, 422), response.text
    assert response.json()["code"] in ("hors_limites", "introuvable", "donnees_invalides")


async def test_odd_digits_in_a_form_are_refused_not_a_server_error(
    browser: Browser, cabinet: dict[str, Any]
) -> None:
    admin = await factories.agent(cabinet["territoire"], role="admin")
    await browser.sign_in(admin.email)
    response = await browser.post_form(
        f"/admin/sites/{cabinet['site'].id}",
        {"nom": "X", "kind": "centre", "adresse": "1 rue", "commune": "31555", "services": ["²"]},
    )
    assert response.status_code == 422


async def test_a_responsable_sees_only_the_rdvs_at_their_own_sites_in_a_shared_agents_agenda(
    browser: Browser, cabinet: dict[str, Any]
) -> None:
    other_site = await factories.site(
        cabinet["territoire"], services=[cabinet["service"]], nom="Autre MDS"
    )
    agent = cabinet["agent"]
    await AgentSite(agent=agent.id, site=other_site.id).save()
    await factories.plage(
        agent, other_site, [cabinet["motif"]], heure_debut="14:00", heure_fin="17:00"
    )
    assert await PlageOuverture.count().where(PlageOuverture.agent == agent.id) == 2
    here = await reserver(
        DemandeRdv(
            cabinet["motif"].id,
            cabinet["site"].id,
            factories.monday_at("09:00"),
            Personne("Ici", "Visible", "0612345678"),
        )
    )
    await reserver(
        DemandeRdv(
            cabinet["motif"].id,
            other_site.id,
            factories.monday_at("14:00"),
            Personne("Ailleurs", "Cache", "0612345679"),
        )
    )
    responsable = await factories.agent(
        cabinet["territoire"], role="responsable", sites=[cabinet["site"]]
    )
    await browser.sign_in(responsable.email)
    day = here.debut.astimezone(factories.PARIS).date().isoformat()
    page = await browser.http.get("/agenda", params={"agent": agent.id, "jour": day})
    assert page.status_code == 200
    assert "Visible" in page.text and "Cache" not in page.text

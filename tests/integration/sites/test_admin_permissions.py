"""Who may see and change what in the administration pages, role by role."""

from __future__ import annotations

from typing import Any

import pytest

from sites.tables import Agent, Fermeture, Service, Site
from tests import factories
from tests.integration.conftest import Browser


def site_form(site: Site | None = None, **overrides: Any) -> dict[str, Any]:
    values = {
        "nom": site.nom if site else "Maison des Solidarités de Colomiers",
        "kind": "centre",
        "adresse": "1 place de la Mairie, 31770 Colomiers",
        "commune": "31555",
        "telephone": "05 61 00 00 00",
        "accessibilite": "Accès de plain-pied",
        "horaires_lundi": "08:30-12:00, 13:30-17:00",
        "horaires_mardi": "08:30-12:00",
        "actif": "on",
    }
    values.update(overrides)
    return values


@pytest.fixture
async def territoire_setup() -> dict[str, Any]:
    territoire = await factories.territoire()
    pmi = await factories.service(territoire)
    site_a = await factories.site(territoire, services=[pmi])
    site_b = await factories.site(territoire, services=[pmi])
    other = await factories.territoire()
    other_site = await factories.site(other, nom="Site d'un autre territoire")
    return {
        "territoire": territoire,
        "pmi": pmi,
        "site_a": site_a,
        "site_b": site_b,
        "other": other,
        "other_site": other_site,
        "admin": await factories.agent(territoire, role="admin"),
        "responsable": await factories.agent(territoire, role="responsable", sites=[site_a]),
        "agent": await factories.agent(territoire, role="agent", sites=[site_a], services=[pmi]),
    }


async def site_nom(site_id: int) -> str:
    row = await Site.select(Site.nom).where(Site.id == site_id).first()
    assert row is not None
    return str(row["nom"])


@pytest.mark.parametrize("role", ["admin", "responsable", "agent"])
async def test_every_role_lists_the_sites_of_its_own_territoire_only(
    browser: Browser, territoire_setup: dict[str, Any], role: str
) -> None:
    await browser.sign_in(territoire_setup[role].email)
    page = await browser.http.get("/admin/sites")
    assert page.status_code == 200
    assert territoire_setup["site_a"].nom in page.text
    assert territoire_setup["site_b"].nom in page.text
    assert "Site d&#39;un autre territoire" not in page.text and "autre territoire" not in page.text


@pytest.mark.parametrize("role", ["admin", "responsable", "agent"])
async def test_a_site_of_another_territoire_does_not_exist_for_any_role(
    browser: Browser, territoire_setup: dict[str, Any], role: str
) -> None:
    await browser.sign_in(territoire_setup[role].email)
    other_id = territoire_setup["other_site"].id
    assert (await browser.http.get(f"/admin/sites/{other_id}")).status_code == 404
    posted = await browser.post_form(f"/admin/sites/{other_id}", site_form(nom="Détourné"))
    assert posted.status_code in (403, 404)
    assert await site_nom(other_id) == "Site d'un autre territoire"


async def test_an_admin_creates_a_site_with_its_hours_and_services(
    browser: Browser, territoire_setup: dict[str, Any]
) -> None:
    await browser.sign_in(territoire_setup["admin"].email)
    form = site_form(nom=factories.unique("MDS"), services=[str(territoire_setup["pmi"].id)])
    response = await browser.post_form("/admin/sites/nouveau", form)
    assert response.status_code == 303
    site = await Site.objects().where(Site.nom == form["nom"]).output(load_json=True).first()
    assert site is not None and site.territoire == territoire_setup["territoire"].id
    assert site.horaires == {
        "lundi": [["08:30", "12:00"], ["13:30", "17:00"]],
        "mardi": [["08:30", "12:00"]],
    }
    page = await browser.http.get(response.headers["location"])
    assert "Modifications enregistrées." in page.text


async def test_a_bad_site_form_is_refused_field_by_field_and_nothing_is_created(
    browser: Browser, territoire_setup: dict[str, Any]
) -> None:
    await browser.sign_in(territoire_setup["admin"].email)
    before = await Site.count()
    form = site_form(
        nom="", commune="99999", horaires_mardi="14:00-12:00", latitude="123", email="pas-un-email"
    )
    response = await browser.post_form("/admin/sites/nouveau", form)
    assert response.status_code == 422
    for message in (
        "Le nom est obligatoire.",
        "Commune inconnue",
        "finit avant de commencer",
        "La latitude doit être entre -90 et 90.",
        "Adresse e-mail invalide",
    ):
        assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert await Site.count() == before


async def test_a_responsable_edits_their_site_but_not_another_one(
    browser: Browser, territoire_setup: dict[str, Any]
) -> None:
    await browser.sign_in(territoire_setup["responsable"].email)
    site_a, site_b = territoire_setup["site_a"], territoire_setup["site_b"]
    ok = await browser.post_form(f"/admin/sites/{site_a.id}", site_form(nom="MDS renommée"))
    assert ok.status_code == 303
    assert await site_nom(site_a.id) == "MDS renommée"
    refused = await browser.post_form(f"/admin/sites/{site_b.id}", site_form(nom="Pas à moi"))
    assert refused.status_code == 403
    assert await site_nom(site_b.id) == site_b.nom
    assert (await browser.http.get("/admin/sites/nouveau")).status_code == 403
    assert (
        await browser.post_form("/admin/sites/nouveau", site_form(nom="Nouveau"))
    ).status_code == 403


async def test_an_agent_reads_a_site_without_a_form_and_cannot_change_it(
    browser: Browser, territoire_setup: dict[str, Any]
) -> None:
    await browser.sign_in(territoire_setup["agent"].email)
    site_a = territoire_setup["site_a"]
    page = await browser.http.get(f"/admin/sites/{site_a.id}")
    assert page.status_code == 200 and '<form method="post" action="/admin/sites/' not in page.text
    assert (
        await browser.post_form(f"/admin/sites/{site_a.id}", site_form(nom="Non"))
    ).status_code == 403
    closure = {"debut": "2026-12-24", "fin": "2026-12-26", "motif": "Fêtes"}
    assert (
        await browser.post_form(f"/admin/sites/{site_a.id}/fermetures", closure)
    ).status_code == 403
    assert await site_nom(site_a.id) == site_a.nom
    assert await Fermeture.count().where(Fermeture.site == site_a.id) == 0


@pytest.mark.parametrize("role", ["responsable", "agent"])
async def test_only_admins_manage_agents_and_services(
    browser: Browser, territoire_setup: dict[str, Any], role: str
) -> None:
    await browser.sign_in(territoire_setup[role].email)
    admin = territoire_setup["admin"]
    assert (await browser.http.get(f"/admin/agents/{admin.id}")).status_code == 403
    promote = {
        "prenom": "X",
        "nom": "Y",
        "email": "pirate@exemple.fr",
        "role": "admin",
        "actif": "on",
        "mot_de_passe": "un mot de passe bien long",
    }
    assert (await browser.post_form("/admin/agents/nouveau", promote)).status_code == 403
    assert not await Agent.exists().where(Agent.email == "pirate@exemple.fr")
    pmi = territoire_setup["pmi"]
    renamed = await browser.post_form(
        f"/admin/services/{pmi.id}", {"code": "pmi", "nom": "Renommé"}
    )
    assert renamed.status_code == 403
    assert (await Service.select(Service.nom).where(Service.id == pmi.id).first())["nom"] == "PMI"  # type: ignore[index]


async def test_closures_are_added_checked_and_removed(
    browser: Browser, territoire_setup: dict[str, Any]
) -> None:
    await browser.sign_in(territoire_setup["responsable"].email)
    site_id = territoire_setup["site_a"].id
    backwards = {"debut": "2026-12-26", "fin": "2026-12-24", "motif": "Fêtes"}
    refused = await browser.post_form(f"/admin/sites/{site_id}/fermetures", backwards)
    assert refused.status_code == 422 and "Le dernier jour doit suivre le premier." in refused.text
    assert await Fermeture.count().where(Fermeture.site == site_id) == 0
    ok = await browser.post_form(
        f"/admin/sites/{site_id}/fermetures",
        {**backwards, "debut": "2026-12-24", "fin": "2026-12-26"},
    )
    assert ok.status_code == 303
    closure = await Fermeture.objects().where(Fermeture.site == site_id).first()
    assert closure is not None and closure.motif == "Fêtes"
    page = await browser.http.get(f"/admin/sites/{site_id}")
    assert "24/12/2026" in page.text
    removed = await browser.post_form(
        f"/admin/sites/{site_id}/fermetures/{closure.id}/supprimer", {}
    )
    assert removed.status_code == 303
    assert await Fermeture.count().where(Fermeture.site == site_id) == 0


async def test_an_admin_creates_an_agent_who_can_then_sign_in(
    new_browser,
    territoire_setup: dict[str, Any],  # type: ignore[no-untyped-def]
) -> None:
    admin_browser = new_browser()
    await admin_browser.sign_in(territoire_setup["admin"].email)
    email = f"{factories.unique('n').replace(' ', '').lower()}@exemple.fr"
    form = {
        "prenom": "Inès",
        "nom": "Durand",
        "email": email,
        "role": "responsable",
        "actif": "on",
        "mot_de_passe": "un mot de passe bien long",
        "sites": [str(territoire_setup["site_b"].id)],
        "services": [str(territoire_setup["pmi"].id)],
    }
    assert (await admin_browser.post_form("/admin/agents/nouveau", form)).status_code == 303
    duplicate = await admin_browser.post_form("/admin/agents/nouveau", form)
    assert duplicate.status_code == 422 and "déjà utilisée" in duplicate.text
    newcomer = new_browser()
    assert (await newcomer.sign_in(email, "un mot de passe bien long")).status_code == 303
    site_b = territoire_setup["site_b"]
    assert (
        await newcomer.post_form(f"/admin/sites/{site_b.id}", site_form(nom="MDS B"))
    ).status_code == 303


async def test_an_admin_cannot_remove_their_own_admin_rights(
    browser: Browser, territoire_setup: dict[str, Any]
) -> None:
    admin = territoire_setup["admin"]
    await browser.sign_in(admin.email)
    response = await browser.post_form(
        f"/admin/agents/{admin.id}",
        {"prenom": "A", "nom": "B", "email": admin.email, "role": "agent", "actif": "on"},
    )
    assert response.status_code == 422
    row = await Agent.select(Agent.role).where(Agent.id == admin.id).first()
    assert row is not None and row["role"] == "admin"


async def test_a_service_code_is_unique_in_a_territoire(
    browser: Browser, territoire_setup: dict[str, Any]
) -> None:
    await browser.sign_in(territoire_setup["admin"].email)
    created = await browser.post_form(
        "/admin/services/nouveau", {"code": "logement", "nom": "Logement"}
    )
    assert created.status_code == 303
    again = await browser.post_form(
        "/admin/services/nouveau", {"code": "logement", "nom": "Logement bis"}
    )
    assert again.status_code == 422 and "déjà utilisé" in again.text
    bad = await browser.post_form("/admin/services/nouveau", {"code": "Pas Bon!", "nom": "X"})
    assert bad.status_code == 422
    territoire_id = territoire_setup["territoire"].id
    assert (
        await Service.count().where(Service.territoire == territoire_id, Service.code == "logement")
        == 1
    )

"""The administration pages in a real browser: usable with a keyboard, and axe-clean."""

from __future__ import annotations

from playwright.async_api import Page, expect

from sites.tables import Fermeture
from tests import factories
from tests.integration.browser.conftest import assert_accessible, sign_in


async def test_the_sign_in_page_is_accessible_and_starts_with_a_skip_link(page: Page) -> None:
    await page.goto("/connexion")
    await assert_accessible(page)
    await page.keyboard.press("Tab")
    focused = page.locator(":focus")
    await expect(focused).to_have_text("Aller au contenu")


async def test_an_admin_edits_a_site_and_adds_a_closure_through_the_pages(page: Page) -> None:
    territoire = await factories.territoire()
    pmi = await factories.service(territoire)
    site = await factories.site(territoire, services=[pmi])
    admin = await factories.agent(territoire, role="admin")

    await sign_in(page, admin.email)
    await expect(page.get_by_role("heading", level=1)).to_have_text(territoire.nom)
    await assert_accessible(page)

    await page.get_by_role("link", name="Sites", exact=True).click()
    await assert_accessible(page)
    await page.get_by_role("link", name=site.nom).click()
    await expect(page.get_by_label("Nom du site")).to_have_value(site.nom)
    await assert_accessible(page)

    # A mistake is shown next to the field and in a summary, and nothing is saved.
    await page.get_by_label("Mardi").fill("18:00-09:00")
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page.get_by_role("alert")).to_contain_text("finit avant de commencer")
    await expect(page.get_by_label("Mardi")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page)

    await page.get_by_label("Mardi").fill("09:00-12:00")
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page.get_by_role("status")).to_have_text("Modifications enregistrées.")

    await page.get_by_label("Premier jour fermé").fill("2026-12-24")
    await page.get_by_label("Dernier jour fermé").fill("2026-12-26")
    await page.get_by_label("Motif").fill("Fêtes de fin d'année")
    await page.get_by_role("button", name="Ajouter la fermeture").click()
    await expect(page.get_by_role("cell", name="Fêtes de fin d'année")).to_be_visible()
    await assert_accessible(page)
    assert await Fermeture.count().where(Fermeture.site == site.id) == 1


async def test_the_agent_form_and_lists_are_accessible(page: Page) -> None:
    territoire = await factories.territoire()
    pmi = await factories.service(territoire)
    await factories.site(territoire, services=[pmi])
    admin = await factories.agent(territoire, role="admin")
    await sign_in(page, admin.email)
    for path in (
        "/admin/agents",
        "/admin/agents/nouveau",
        "/admin/services",
        "/admin/services/nouveau",
    ):
        await page.goto(path)
        await assert_accessible(page)
    await page.goto("/admin/agents/nouveau")
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page.get_by_role("alert")).to_contain_text("Le prénom est obligatoire.")
    await assert_accessible(page)


async def test_the_error_page_is_accessible(page: Page) -> None:
    response = await page.goto("/cette-page-n-existe-pas")
    assert response is not None and response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    await assert_accessible(page)


async def test_the_accessibility_check_does_catch_a_serious_violation(page: Page) -> None:
    # Guards the guard: a form field without a label must fail assert_accessible.
    await page.set_content(
        '<html lang="fr"><title>t</title><main><input type="text"></main></html>'
    )
    try:
        await assert_accessible(page)
    except AssertionError as error:
        assert "label" in str(error)
    else:
        raise AssertionError("axe-core did not report an unlabelled field")


async def test_the_public_search_page_is_accessible_before_and_after_a_search(page: Page) -> None:
    territoire = await factories.territoire()
    service = await factories.service(territoire, code="pmi-a11y", nom="PMI accessible")
    await factories.site(territoire, services=[service], nom="Centre accessible")
    await page.goto("/")
    await assert_accessible(page)
    await page.get_by_label("Votre commune ou votre code postal").fill("31000")
    await page.get_by_label("Service").select_option("pmi-a11y")
    await page.get_by_role("button", name="Rechercher").click()
    await expect(page.get_by_role("heading", name="Centre accessible")).to_be_visible()
    await assert_accessible(page)

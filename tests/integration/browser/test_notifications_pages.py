"""The admin's SMS and e-mail pages in a real browser: keyboard-usable and axe-clean."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests import factories
from tests.integration.browser.conftest import assert_accessible, sign_in


async def test_settings_and_messages_pages(page: Page) -> None:
    territoire = await factories.territoire()
    service = await factories.service(territoire)
    await factories.motif(service, nom="Consultation de nourrisson")
    admin = await factories.agent(territoire, role="admin")
    await sign_in(page, admin.email)

    await page.get_by_role("link", name="Messages", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Messages envoyés")
    await assert_accessible(page)

    await page.get_by_role("link", name="Réglages des SMS et e-mails").click()
    await assert_accessible(page)
    await page.get_by_label("Expéditeur affiché").fill("Conseil départemental")
    await page.get_by_role("button", name="Enregistrer", exact=True).click()
    await expect(page.get_by_role("alert").first).to_contain_text("De 3 à 11 lettres")
    await assert_accessible(page)
    await page.get_by_label("Expéditeur affiché").fill("CD99")
    await page.get_by_role("button", name="Enregistrer", exact=True).click()
    await expect(page.get_by_role("status")).to_have_text("Réglages enregistrés.")
    await page.get_by_label("PMI – Consultation de nourrisson").fill("24")
    await page.get_by_role("button", name="Enregistrer les rappels par motif").click()
    await expect(page.get_by_label("PMI – Consultation de nourrisson")).to_have_value("24")
    await assert_accessible(page)

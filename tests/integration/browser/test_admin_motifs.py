"""The motifs' administration pages in a real browser: filled with the keyboard, axe-clean."""

from __future__ import annotations

from playwright.async_api import Page, expect

from rdv.tables import Motif
from tests import factories
from tests.integration.browser.conftest import assert_accessible, sign_in


async def test_an_admin_creates_a_collective_motif_with_the_keyboard(page: Page) -> None:
    territoire = await factories.territoire()
    pmi = await factories.service(territoire, nom="Protection maternelle")
    await factories.site(territoire, services=[pmi])
    admin = await factories.agent(territoire, role="admin")
    nom = factories.unique("Atelier massage bébé")

    await sign_in(page, admin.email)
    menu = page.get_by_role("navigation", name="Navigation principale")
    await menu.get_by_role("link", name="Motifs", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Motifs")
    await assert_accessible(page)
    await page.get_by_role("link", name="Créer un motif", exact=True).click()
    await assert_accessible(page)

    # A mistake is shown next to the field and in a summary, and nothing is saved.
    await page.get_by_label("Nom du motif").focus()
    await page.keyboard.type(nom)
    await page.get_by_label("Atelier collectif").focus()
    await page.keyboard.press("Space")
    await page.get_by_label("Capacité").focus()
    await page.keyboard.type("1")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("alert")).to_contain_text("La capacité doit être entre 2 et 500.")
    await expect(page.get_by_label("Capacité")).to_have_attribute("aria-invalid", "true")
    await assert_accessible(page)
    assert await Motif.count().where(Motif.nom == nom) == 0

    await page.get_by_label("Durée en minutes").fill("")
    await page.get_by_label("Durée en minutes").focus()
    await page.keyboard.type("90")
    await page.get_by_label("Capacité").fill("")
    await page.get_by_label("Capacité").focus()
    await page.keyboard.type("8")
    await page.get_by_role("button", name="Enregistrer").focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text("Modifications enregistrées.")
    await assert_accessible(page)

    motif = await Motif.objects().where(Motif.nom == nom).first()
    assert motif is not None
    assert (motif.service, motif.duree_minutes, motif.collectif, motif.capacite) == (
        pmi.id,
        90,
        True,
        8,
    )
    await page.get_by_role("link", name="Retour aux motifs").click()
    await expect(page.get_by_role("cell", name="Atelier collectif (8 places)")).to_be_visible()
    await assert_accessible(page)

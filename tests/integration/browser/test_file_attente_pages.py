"""The queue pages in headless Chromium: the kiosk, the screen and the console stay in step
live (no reload), pairing a screen from the admin, and every page is axe-clean."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from file_attente.tables import Ticket
from tests import factories
from tests.integration.browser.conftest import assert_accessible, sign_in
from tests.integration.file_attente.conftest import SiteFile, site_avec_files
from tests.integration.file_attente.test_pages import sans_limite_d_appairage

# Records what the screen says instead of saying it (headless Chromium has no voice).
VOIX_ENREGISTREE = """
window.__dits = [];
Object.defineProperty(window, "speechSynthesis", {
  configurable: true,
  value: {
    getVoices: function () { return []; },
    speak: function (phrase) { window.__dits.push(phrase.text); if (phrase.onend) { phrase.onend(); } }
  }
});
if (!window.SpeechSynthesisUtterance) {
  window.SpeechSynthesisUtterance = function (texte) { this.text = texte; };
}
"""


async def une(query: Any) -> dict[str, Any]:
    """The one row a query must find."""
    row = await query.first()
    assert row is not None
    return dict(row)


@pytest.fixture
async def contextes(chromium: Browser, server: str) -> AsyncIterator[Any]:
    """New browser contexts (each its own cookies), closed after the test."""
    ouverts: list[BrowserContext] = []

    async def ouvrir(appareil: str | None = None, largeur: int = 1280, hauteur: int = 900) -> Page:
        context = await chromium.new_context(
            base_url=server, viewport={"width": largeur, "height": hauteur}, locale="fr-FR"
        )
        ouverts.append(context)
        if appareil is not None:
            await context.add_cookies(
                [
                    {
                        "name": "rdv_appareil",
                        "value": appareil,
                        "url": server,
                        "httpOnly": True,
                        "sameSite": "Strict",
                    }
                ]
            )
        return await context.new_page()

    yield ouvrir
    for context in ouverts:
        await context.close()


async def ouvrir_console(page: Page, lieu: SiteFile, index: int = 0) -> None:
    await sign_in(page, lieu.agents[index].email)
    await page.goto(f"/guichet/{lieu.site.id}")
    await assert_accessible(page)
    await page.get_by_label("Guichet", exact=True).select_option(str(lieu.guichets[index].id))
    await page.get_by_role("button", name="Ouvrir le guichet").click()
    await expect(
        page.get_by_role("heading", name=f"Mon guichet : {lieu.guichets[index].nom}")
    ).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("data-direct", "connecte")
    # Set once; still there later only if the page was never reloaded.
    await page.evaluate("window.__sans_rechargement = true")


async def test_a_ticket_taken_at_the_kiosk_appears_on_the_console_without_reload(
    contextes: Any,
) -> None:
    lieu = await site_avec_files()
    console = await contextes()
    await ouvrir_console(console, lieu)
    await expect(console.locator("#attente")).to_contain_text("Personne n'attend.")

    borne = await contextes(lieu.borne_jeton, 1080, 1920)
    await borne.clock.install()
    await borne.goto("/borne")
    await assert_accessible(borne)
    await borne.get_by_role("button", name="PMI").click()
    await expect(borne.locator(".ticket-code")).to_have_text("A001")
    await expect(borne.get_by_role("button", name="Imprimer le ticket")).to_be_visible()
    await assert_accessible(borne)

    await expect(console.locator("#attente")).to_contain_text("A001", timeout=10_000)
    await expect(console.locator("#annonce")).to_have_text("Nouveau ticket A001.")
    assert await console.evaluate("window.__sans_rechargement === true")
    await assert_accessible(console)

    # The kiosk goes back to its home by itself, in French, for the next person.
    await borne.clock.fast_forward(21_000)
    await borne.wait_for_url("**/borne")
    await expect(borne.get_by_role("heading", level=1)).to_have_text("Prendre un ticket")


async def test_a_call_from_the_console_is_shown_and_spoken_on_the_screen_without_reload(
    contextes: Any, client: httpx.AsyncClient
) -> None:
    lieu = await site_avec_files()
    _, jeton = await factories.appareil(lieu.site, "ecran")
    taken = await client.post(
        "/api/borne/tickets",
        json={"file": lieu.file.id},
        headers={"Authorization": f"Bearer {lieu.borne_jeton}"},
    )
    assert taken.status_code == 201
    ecran = await contextes(jeton, 1920, 1080)
    await ecran.add_init_script(VOIX_ENREGISTREE)
    await ecran.goto("/ecran")
    await expect(ecran.locator("#dernier-appel")).to_have_text("Aucun appel pour le moment.")
    await expect(ecran.locator(f'[data-attente-file="{lieu.file.id}"]')).to_have_text("1")
    await expect(ecran.locator("html")).to_have_attribute("data-direct", "connecte")
    await expect(ecran.locator("#hors-ligne")).to_be_hidden()
    await ecran.evaluate("window.__sans_rechargement = true")
    await assert_accessible(ecran)

    console = await contextes()
    await ouvrir_console(console, lieu)
    await console.get_by_role("button", name="Appeler le suivant").click()
    await expect(console.get_by_role("status")).to_have_text("Ticket A001 appelé.")

    await expect(ecran.locator("#dernier-appel")).to_contain_text("A001", timeout=10_000)
    await expect(ecran.locator("#dernier-appel")).to_contain_text(f"Guichet {lieu.guichets[0].nom}")
    await expect(ecran.locator(f'[data-attente-file="{lieu.file.id}"]')).to_have_text("0")
    await expect(ecran.locator("#annonce")).to_have_text(
        f"Ticket A001, guichet {lieu.guichets[0].nom}"
    )
    await ecran.wait_for_function("window.__dits.length > 0", timeout=5_000)
    assert await ecran.evaluate("window.__dits") == [
        f"Ticket A 0 0 1, guichet {lieu.guichets[0].nom}"
    ]
    assert await ecran.evaluate("window.__sans_rechargement === true")
    await assert_accessible(ecran)

    # A recall is announced again; the page still holds no one's name.
    await console.get_by_role("button", name="Rappeler").click()
    await ecran.wait_for_function("window.__dits.length > 1", timeout=5_000)
    assert lieu.agents[0].nom not in await ecran.content()


async def test_a_screen_shows_a_code_that_an_admin_types_then_it_becomes_the_site_screen(
    contextes: Any,
) -> None:
    lieu = await site_avec_files()
    admin = await factories.agent(lieu.territoire, role="admin")
    await sans_limite_d_appairage()
    ecran = await contextes(None, 1920, 1080)
    await ecran.goto("/ecran")
    await assert_accessible(ecran)
    await ecran.get_by_role("button", name="Afficher un code d'appairage").click()
    code = (await ecran.locator(".code-appairage").inner_text()).strip()
    assert len(code.replace(" ", "")) == 6
    await assert_accessible(ecran)

    gestion = await contextes()
    await sign_in(gestion, admin.email)
    await gestion.goto(f"/admin/sites/{lieu.site.id}")
    await gestion.get_by_role("link", name="Bornes et écrans").click()
    await assert_accessible(gestion)
    await gestion.get_by_label("Code affiché sur l'appareil").fill(code)
    await gestion.get_by_label("Nom de l'appareil").fill("Écran de la salle")
    await gestion.get_by_label("Type d'appareil").select_option("ecran")
    await gestion.get_by_role("button", name="Appairer").click()
    await expect(gestion.get_by_role("status")).to_contain_text("Appareil appairé")
    await expect(gestion.get_by_role("cell", name="Écran de la salle", exact=True)).to_be_visible()
    await assert_accessible(gestion)

    # The screen asks again every 5 s and turns into the site's screen.
    await expect(ecran.get_by_role("heading", name="Appels", exact=True)).to_be_visible(
        timeout=10_000
    )
    await expect(ecran.locator(".ecran-site")).to_have_text(lieu.site.nom)
    await expect(ecran.locator("html")).to_have_attribute("data-direct", "connecte")


async def test_a_ticket_holder_sees_their_turn_come_without_reloading(
    contextes: Any, client: httpx.AsyncClient, new_browser: Any
) -> None:
    lieu = await site_avec_files()
    borne = {"Authorization": f"Bearer {lieu.borne_jeton}"}
    for _ in range(2):
        await client.post("/api/borne/tickets", json={"file": lieu.file.id}, headers=borne)
    second = await une(Ticket.select().where(Ticket.file == lieu.file.id, Ticket.numero == 2))
    telephone = await contextes(None, 360, 780)
    await telephone.goto(f"/ticket/{second['jeton']}")
    await expect(telephone.locator("#devant")).to_have_text("1 personne est devant vous.")
    await expect(telephone.locator("html")).to_have_attribute("data-direct", "connecte")
    await assert_accessible(telephone)

    agent = new_browser()
    await agent.sign_in(lieu.agents[0].email)
    guichet = lieu.guichets[0].id
    await agent.post_json(f"/api/guichets/{guichet}/ouvrir", {"files": [lieu.file.id]})
    premier = await agent.post_json(f"/api/guichets/{guichet}/appeler-suivant")
    await expect(telephone.locator("#devant")).to_have_text("Personne n'est devant vous.")
    await agent.post_json(f"/api/guichets/{guichet}/tickets/{premier.json()['ticket_id']}/terminer")
    await agent.post_json(f"/api/guichets/{guichet}/appeler-suivant")
    await expect(telephone.locator("#message-appel")).to_have_text(
        f"C'est votre tour : allez au guichet {lieu.guichets[0].nom}."
    )
    await expect(telephone.get_by_role("button", name="Je ne viens plus")).to_be_hidden()
    await assert_accessible(telephone)


async def test_the_other_queue_pages_are_accessible(
    contextes: Any, client: httpx.AsyncClient
) -> None:
    lieu = await site_avec_files()
    responsable = await factories.agent(lieu.territoire, role="responsable", sites=[lieu.site])
    taken = await client.post(
        "/api/borne/tickets",
        json={"file": lieu.file.id},
        headers={"Authorization": f"Bearer {lieu.borne_jeton}"},
    )

    usager = await contextes(None, 360, 780)
    await usager.goto(f"/sites/{lieu.site.id}/file")
    await assert_accessible(usager)
    await usager.get_by_label("Numéro de téléphone portable").fill("05 61 00 00 00")
    await usager.get_by_role("button", name="Prendre un ticket").click()
    await expect(usager.get_by_role("alert")).to_contain_text("un fixe ne reçoit pas les SMS")
    await assert_accessible(usager)
    await usager.get_by_label("Numéro de téléphone portable").fill("06 12 34 56 78")
    await usager.get_by_label("Action sociale").check()
    await usager.get_by_role("button", name="Prendre un ticket").click()
    await expect(usager.locator(".code-ticket")).to_have_text("B001")
    await usager.get_by_role("button", name="Je ne viens plus").click()
    await expect(usager.get_by_role("status")).to_contain_text("Votre ticket est annulé.")
    await assert_accessible(usager)

    borne = await contextes(lieu.borne_jeton, 1080, 1920)
    await borne.goto("/borne?lang=en")
    await expect(borne.get_by_role("heading", level=1)).to_have_text("Take a ticket")
    # A scanner types the code anywhere on the page; an unknown one is refused in English.
    await borne.locator("body").press_sequentially("ZZZZZZZZ")
    await expect(borne.get_by_label("Appointment code")).to_have_value("ZZZZZZZZ")
    await borne.get_by_role("button", name="Check in").click()
    await expect(borne.get_by_role("alert")).to_contain_text("does not match any appointment")
    await assert_accessible(borne)
    await borne.goto(f"/borne/tickets/{taken.json()['jeton']}")
    await assert_accessible(borne)

    gestion = await contextes()
    await sign_in(gestion, responsable.email)
    for chemin in ("files", "files/nouvelle", f"files/{lieu.file.id}", "guichets", "appareils"):
        await gestion.goto(f"/admin/sites/{lieu.site.id}/{chemin}")
        await assert_accessible(gestion)
    await gestion.goto(f"/admin/sites/{lieu.site.id}/files/nouvelle")
    await gestion.get_by_label("Préfixe des tickets").fill("A")
    await gestion.get_by_role("button", name="Enregistrer").click()
    await expect(gestion.get_by_role("alert")).to_contain_text("Ce préfixe est déjà pris")
    await assert_accessible(gestion)

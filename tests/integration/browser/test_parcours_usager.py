"""The citizen's booking in a real browser on a 360 px phone: keyboard, axe-clean on every page."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

from playwright.async_api import Page, expect

from rdv.services import reservation
from rdv.tables import Rdv
from sites.tables import Territoire
from tests import factories
from tests.integration.browser.conftest import assert_accessible

LARGEUR = 360


def monday_in_two_weeks() -> date:
    today = date.today()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7) + timedelta(weeks=1)


async def cabinet() -> dict[str, Any]:
    territoire = await factories.territoire()
    code = factories.unique("pmi").replace(" ", "").lower()
    service = await factories.service(territoire, code=code, nom=factories.unique("PMI"))
    site = await factories.site(
        territoire,
        services=[service],
        nom=factories.unique("PMI Capitole"),
        telephone="05 61 00 11 22",
    )
    agent = await factories.agent(territoire, services=[service], sites=[site])
    motif = await factories.motif(
        service,
        nom=factories.unique("Consultation du nourrisson"),
        delai_min_minutes=0,
        instructions="Apportez le carnet de santé.",
    )
    await factories.plage(agent, site, [motif], heure_debut="09:00", heure_fin="12:00")
    return {"service": service, "site": site, "motif": motif}


async def check(page: Page) -> None:
    """axe finds nothing serious, and nothing is wider than the phone's screen."""
    await assert_accessible(page)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= LARGEUR, f"{page.url} scrolls sideways: {width} px"


async def test_a_citizen_books_then_cancels_on_a_phone_and_every_page_is_accessible(
    page: Page,
) -> None:
    data = await cabinet()
    motif, site = data["motif"], data["site"]

    await page.goto("/rendez-vous")
    await expect(page.get_by_text("Étape 1 sur 5")).to_be_visible()
    await check(page)
    await page.get_by_role("link", name=data["service"].nom).click()
    await check(page)
    await page.get_by_role("link", name=motif.nom).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Où souhaitez-vous être reçu ?")
    await check(page)

    await page.get_by_label("Votre commune ou votre code postal").fill("31000")
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("Prochain créneau :")).to_be_visible()
    await check(page)
    await page.get_by_role("link", name=site.nom).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Choisissez un créneau")

    await page.goto(f"/rendez-vous/motif/{motif.id}/lieu/{site.id}?du={monday_in_two_weeks()}")
    await check(page)
    first = page.get_by_role("link", name=re.compile(r"^09:00 le lundi"))
    box = await first.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44
    await first.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Vos coordonnées")
    await check(page)
    form_url = page.url

    await page.get_by_role("button", name="Confirmer le rendez-vous").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("Le prénom est obligatoire.")
    await expect(page.get_by_label("Téléphone portable")).to_have_attribute("aria-invalid", "true")
    await check(page)

    # For a relative, without their names: said next to their fields, in French.
    await page.get_by_role("radio", name=re.compile("^Pour un proche")).check()
    await page.get_by_role("button", name="Confirmer le rendez-vous").click()
    await expect(summary).to_contain_text("Le prénom du proche est obligatoire.")
    await expect(page.get_by_label("Nom de famille du proche")).to_have_attribute(
        "aria-invalid", "true"
    )
    await expect(page.get_by_role("radio", name=re.compile("^Pour un proche"))).to_be_checked()
    await check(page)

    # The keyboard alone: focus, type, Tab to the next field, Enter submits.
    await page.get_by_role("textbox", name="Prénom (obligatoire)").focus()
    await page.keyboard.type("Camille")
    await page.keyboard.press("Tab")
    await page.keyboard.type("Martin")
    await page.keyboard.press("Tab")
    await page.keyboard.type("06 12 34 56 78")
    await page.get_by_label("Prénom du proche").focus()
    await page.keyboard.type("Léa")
    await page.keyboard.press("Tab")
    await page.keyboard.type("Martin")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Rendez-vous confirmé")
    await expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    await expect(page.get_by_text("Léa Martin (réservé par Camille Martin)")).to_be_visible()
    await check(page)
    code = (await page.locator(".code-rdv").inner_text()).strip()
    assert await Rdv.count().where(Rdv.code == code, Rdv.motif == motif.id) == 1
    confirmation = page.url

    # The same créneau again: taken, with the next free ones.
    await page.goto(form_url)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ce créneau vient d'être pris")
    await expect(page.get_by_role("link", name=re.compile("à 09:30$"))).to_be_visible()
    await check(page)
    assert confirmation.endswith("fait=reserve")

    await page.goto("/rendez-vous/retrouver")
    await check(page)
    await page.get_by_label("Code du rendez-vous").fill(code)
    await page.get_by_label("Les deux premières lettres de votre nom de famille").fill("ma")
    await page.get_by_role("button", name="Retrouver mon rendez-vous").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Votre rendez-vous")

    await page.get_by_role("link", name="Déplacer le rendez-vous").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Déplacer votre rendez-vous")
    await check(page)
    await page.go_back()

    await page.get_by_role("link", name="Annuler le rendez-vous").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Voulez-vous vraiment annuler"
    )
    await check(page)
    await page.get_by_role("button", name="Oui, annuler le rendez-vous").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Rendez-vous annulé")
    await expect(page.get_by_role("status")).to_contain_text("Votre rendez-vous est annulé.")
    await check(page)
    assert await Rdv.count().where(Rdv.code == code, Rdv.statut == "excuse") == 1


async def test_a_wrong_code_on_the_retrouver_form_is_said_in_an_accessible_alert(
    page: Page,
) -> None:
    # Misses count per address: this one misses on purpose from its own (uvicorn trusts
    # X-Forwarded-For from 127.0.0.1), so other tests' addresses stay below the limit.
    await page.set_extra_http_headers({"X-Forwarded-For": f"10.250.{uuid.uuid4().int % 250}.7"})
    await page.goto("/rendez-vous/retrouver")
    await page.get_by_label("Code du rendez-vous").fill("ZZZZ2222")
    await page.get_by_label("Les deux premières lettres de votre nom de famille").fill("ZZ")
    await page.get_by_role("button", name="Retrouver mon rendez-vous").click()
    await expect(page.get_by_role("alert")).to_contain_text("Aucun rendez-vous ne correspond")
    await check(page)


async def test_a_citizen_joins_a_collective_session_and_a_full_one_says_so_accessibly(
    page: Page,
) -> None:
    data = await cabinet()
    site, service = data["site"], data["service"]
    atelier = await factories.motif(
        service, nom=factories.unique("Atelier massage bébé"), collectif=True, capacite=2
    )
    agent = await factories.agent(
        await Territoire.objects().where(Territoire.id == site.territoire).first(), sites=[site]
    )
    lundi = factories.monday_at("14:00")
    for debut in (lundi, lundi + timedelta(days=1)):
        await reservation.ouvrir_session(
            atelier.id, site.id, agent.id, debut, agent_createur_id=agent.id
        )

    await page.goto(f"/rendez-vous/motif/{atelier.id}/lieu/{site.id}?du={lundi.date()}")
    session = page.get_by_role("link", name=re.compile(r"^14:00 le lundi .*, 2 places restantes$"))
    await expect(session).to_be_visible()
    await check(page)
    await session.click()
    await expect(page.get_by_text("C'est une session collective")).to_be_visible()
    form_url = page.url
    await page.get_by_role("textbox", name="Prénom (obligatoire)").fill("Camille")
    await page.get_by_role("textbox", name="Nom de famille (obligatoire)").fill("Martin")
    await page.get_by_label("Téléphone portable").fill("06 12 34 56 78")
    await page.get_by_role("button", name="Confirmer le rendez-vous").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Rendez-vous confirmé")
    await expect(page.get_by_role("link", name="Changer de session")).to_be_visible()
    await check(page)

    # Someone takes the last seat: the form's page now says the session is full.
    await reservation.reserver(
        reservation.DemandeRdv(
            atelier.id, site.id, lundi, reservation.Personne("Sacha", "Roy", "0611223344")
        )
    )
    await page.goto(form_url)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Cette session est complète")
    await expect(
        page.get_by_role("link", name=re.compile(r"^Mardi .* à 14:00\s?, 2 places restantes$"))
    ).to_be_visible()
    await check(page)

"""The agenda pages in a real browser: a responsable's day, a plage, the site's day; axe-clean."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect

from rdv.services.agenda import date_longue
from rdv.services.reservation import DemandeRdv, Personne, reserver
from rdv.tables import CanalCreation, PlageOuverture, Rdv
from tests import factories
from tests.integration.browser.conftest import assert_accessible, sign_in

PARIS = ZoneInfo("Europe/Paris")


def next_monday() -> date:
    today = datetime.now(PARIS).date()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


async def book(agent: Any, site: Any, motif: Any, debut: datetime, who: Personne) -> int:
    rdv = await reserver(
        DemandeRdv(
            motif_id=motif.id,
            site_id=site.id,
            debut=debut,
            personne=who,
            agent_id=agent.id,
            canal=CanalCreation.agent,
            agent_createur_id=agent.id,
        )
    )
    return rdv.id


async def test_a_responsable_marks_an_rdv_seen_creates_a_plage_and_opens_the_site_day(
    page: Page,
) -> None:
    territoire = await factories.territoire()
    pmi = await factories.service(territoire)
    site = await factories.site(territoire, services=[pmi])
    responsable = await factories.agent(
        territoire, role="responsable", sites=[site], services=[pmi], prenom="Rose"
    )
    collegue = await factories.agent(territoire, sites=[site], services=[pmi], prenom="Dominique")
    motif = await factories.motif(pmi, nom="Consultation nourrisson")
    # Two weeks ago: an rdv that has taken place can be marked seen.
    monday = next_monday() - timedelta(days=14)
    own = await book(
        responsable,
        site,
        motif,
        datetime(monday.year, monday.month, monday.day, 9, 0, tzinfo=PARIS),
        Personne("Élodie", "Le Goff", "0612345678"),
    )
    await book(
        collegue,
        site,
        motif,
        datetime(monday.year, monday.month, monday.day, 10, 0, tzinfo=PARIS),
        Personne("Sam", "Roy", "0612345679"),
    )

    await sign_in(page, responsable.email)
    await page.get_by_role("link", name="Agenda", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Agenda du")
    await assert_accessible(page)

    # That Monday's rdv, marked seen from the day view.
    await page.get_by_label("Aller au jour").fill(monday.isoformat())
    await page.get_by_role("button", name="Afficher").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Agenda du {date_longue(monday)}"
    )
    card = page.locator(f"#rdv-{own}")
    await expect(card).to_contain_text("Élodie Le Goff")
    await expect(card).to_contain_text("06 12 34 56 78")
    await assert_accessible(page)
    await card.get_by_role("button", name=re.compile(r"^Marquer vu")).click()
    await expect(page.get_by_role("status")).to_have_text("Modifications enregistrées.")
    await expect(page.locator(f"#rdv-{own}")).to_contain_text("Statut : Vu")
    statut = await Rdv.select(Rdv.statut).where(Rdv.id == own).first()
    assert statut == {"statut": "vu"}

    # A plage every two weeks: the mistakes first, then the right values.
    await (
        page.get_by_role("navigation", name="Agenda")
        .get_by_role("link", name="Plages d'ouverture")
        .click()
    )
    await page.get_by_role("link", name="Nouvelle plage d'ouverture").click()
    await assert_accessible(page)
    await page.get_by_label("Heure de début").fill("14:00")
    await page.get_by_label("Heure de fin").fill("09:00")
    await page.get_by_role("button", name="Enregistrer").click()
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("Cochez au moins un jour.")
    await expect(alert).to_contain_text("L'heure de fin doit être après l'heure de début.")
    await assert_accessible(page)
    await page.get_by_label("Consultation nourrisson").check()
    await page.get_by_label("Heure de début").fill("09:00")
    await page.get_by_label("Heure de fin").fill("12:00")
    await page.get_by_label("Lundi").check()
    await page.get_by_label("Jeudi").check()
    await page.get_by_label("Toutes les 2 semaines").check()
    await page.get_by_label("Premier jour").fill(monday.isoformat())
    await page.get_by_role("button", name="Enregistrer").click()
    await expect(page.get_by_role("status")).to_have_text("Modifications enregistrées.")
    await assert_accessible(page)
    plage = await PlageOuverture.select(PlageOuverture.rrule).where(
        PlageOuverture.agent == responsable.id
    )
    assert plage == [{"rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH"}]

    # The site's day, from the picker of the day view.
    await page.goto(f"/agenda?jour={monday.isoformat()}")
    await page.get_by_label("Journée d'un site").select_option(label=site.nom)
    await page.get_by_role("button", name="Voir la journée du site").click()
    await expect(page).to_have_url(re.compile(rf"/agenda/site/{site.id}\?jour={monday}"))
    await expect(page.get_by_role("heading", level=2, name=re.compile("Rose"))).to_be_visible()
    await expect(page.get_by_role("heading", level=2, name=re.compile("Dominique"))).to_be_visible()
    await expect(page.locator(".rdv-details li", has_text="Sam Roy")).to_be_visible()
    await expect(page.get_by_text("Imprimer", exact=False).first).to_be_visible()
    await assert_accessible(page)

    # Printed, the menus and buttons go away and the rdvs stay.
    await page.emulate_media(media="print")
    await expect(page.get_by_role("button", name=re.compile("^Marquer"))).to_have_count(0)
    await expect(page.locator(".rdv-details li", has_text="Sam Roy")).to_be_visible()
    await page.emulate_media(media="screen")


async def test_the_other_agenda_pages_are_accessible(page: Page) -> None:
    territoire = await factories.territoire()
    pmi = await factories.service(territoire)
    site = await factories.site(territoire, services=[pmi])
    agent = await factories.agent(territoire, sites=[site], services=[pmi])
    await factories.motif(pmi, nom="Consultation", reservable_en_ligne=False)
    await factories.usager(territoire, prenom="Margaux", nom="Dufresne")
    await sign_in(page, agent.email)
    for path in (
        "/agenda/semaine",
        "/agenda/rdv/nouveau?q=dufresne",
        "/agenda/absences",
        "/agenda/absences/nouvelle",
        "/agenda/plages",
        "/agenda/flux",
    ):
        await page.goto(path)
        await assert_accessible(page)

    # Booking on the phone with a mistake, then a new usager at 18:45.
    await page.goto("/agenda/rdv/nouveau?q=dufresne")
    await page.get_by_role("link", name=re.compile("^Choisir Margaux Dufresne")).click()
    await expect(page.get_by_label(re.compile(r"^Prénom \(obligatoire\)"))).to_have_value("Margaux")
    await page.get_by_role("button", name="Réserver le rendez-vous").click()
    await expect(page.get_by_role("alert")).to_contain_text("Choisissez un motif.")
    await assert_accessible(page)
    await page.get_by_label("Motif").select_option(
        label="PMI : Consultation (30 min), réservé aux agents"
    )
    await page.get_by_label(re.compile(r"^Date \(obligatoire\)")).fill(next_monday().isoformat())
    await page.get_by_label("Heure (obligatoire)").fill("18:45")
    await page.get_by_role("button", name="Réserver le rendez-vous").click()
    await expect(page.get_by_role("status")).to_have_text("Modifications enregistrées.")
    await expect(page.locator(".rdv-details li", has_text="Margaux Dufresne")).to_be_visible()
    await assert_accessible(page)

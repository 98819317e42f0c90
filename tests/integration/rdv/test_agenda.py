"""The agents' agenda on a real server: who sees and changes what, statuses logged with the
agent, booking on the phone, plages and absences, the site's day and the private ICS feed."""

from __future__ import annotations

import asyncio
import hashlib
import html
import os
import re
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar

from rdv.services.agenda import date_longue
from rdv.services.reservation import DemandeRdv, Personne, reserver
from rdv.tables import (
    Absence,
    CanalCreation,
    FluxIcs,
    PlageMotif,
    PlageOuverture,
    Rdv,
    RdvHistorique,
    RdvParticipant,
)
from tests import factories
from tests.integration.conftest import ROOT, Browser, free_port

PARIS = ZoneInfo("Europe/Paris")


def next_monday(weeks: int = 1) -> date:
    today = datetime.now(PARIS).date()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7) + timedelta(weeks=weeks - 1)


def at(day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=PARIS)


async def book(agent: Any, site: Any, motif: Any, debut: datetime, personne: Personne) -> int:
    """An rdv the agent took on the phone (any time, no plage needed)."""
    rdv = await reserver(
        DemandeRdv(
            motif_id=motif.id,
            site_id=site.id,
            debut=debut,
            personne=personne,
            agent_id=agent.id,
            canal=CanalCreation.agent,
            agent_createur_id=agent.id,
        ),
        maintenant=debut - timedelta(days=1),
    )
    return rdv.id


@pytest.fixture
async def equipe() -> dict[str, Any]:
    """Two sites of one territoire, their agents, and one rdv each on last Monday."""
    territoire = await factories.territoire()
    pmi = await factories.service(territoire)
    social = await factories.service(territoire, code="social", nom="Social")
    site_a = await factories.site(territoire, services=[pmi])
    site_b = await factories.site(territoire, services=[pmi])
    agent = await factories.agent(territoire, sites=[site_a], services=[pmi], prenom="Camille")
    collegue = await factories.agent(territoire, sites=[site_a], services=[pmi], prenom="Dominique")
    agent_b = await factories.agent(territoire, sites=[site_b], services=[pmi], prenom="Sacha")
    responsable = await factories.agent(
        territoire, role="responsable", sites=[site_a], services=[pmi], prenom="Rose"
    )
    admin = await factories.agent(territoire, role="admin", prenom="Ada")
    autre = await factories.territoire()
    motif = await factories.motif(pmi, nom="Consultation nourrisson")
    motif_agent = await factories.motif(pmi, nom="Visite à domicile", reservable_en_ligne=False)
    motif_social = await factories.motif(social, nom="Aide sociale")
    # Last week's Monday: rdvs that have taken place can be marked vu or absent.
    jour = next_monday(weeks=-1)
    rdvs = {
        "agent": await book(
            agent, site_a, motif, at(jour, "09:00"), Personne("Élodie", "Le Goff", "0612345678")
        ),
        "collegue": await book(
            collegue, site_a, motif, at(jour, "10:00"), Personne("Sam", "Roy", "0612345679")
        ),
        "agent_b": await book(
            agent_b, site_b, motif, at(jour, "11:00"), Personne("Lou", "Petit", "0612345670")
        ),
    }
    return {
        "territoire": territoire,
        "pmi": pmi,
        "site_a": site_a,
        "site_b": site_b,
        "agent": agent,
        "collegue": collegue,
        "agent_b": agent_b,
        "responsable": responsable,
        "admin": admin,
        "autre_admin": await factories.agent(autre, role="admin"),
        "motif": motif,
        "motif_agent": motif_agent,
        "motif_social": motif_social,
        "jour": jour,
        "jour_a_venir": next_monday(),
        "rdvs": rdvs,
    }


async def signed_in(new_browser: Any, agent: Any) -> Browser:
    browser: Browser = new_browser()
    response = await browser.sign_in(agent.email)
    assert response.status_code == 303, response.text
    return browser


async def statut(rdv_id: int) -> str:
    row = await Rdv.select(Rdv.statut).where(Rdv.id == rdv_id).first()
    assert row is not None
    return str(row["statut"])


# Day, week and who may see them -------------------------------------------------------


async def test_an_agent_sees_their_day_with_local_times_motif_usager_phone_site_and_status(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["agent"])
    jour = equipe["jour"]
    page = await browser.http.get("/agenda", params={"jour": jour.isoformat()})
    assert page.status_code == 200
    for expected in (
        f"Agenda du {date_longue(jour)}",
        "09:00–09:30",
        "Consultation nourrisson",
        "Élodie Le Goff",
        'href="tel:+33612345678">06 12 34 56 78</a>',
        equipe["site_a"].nom,
        "À venir",
        f'href="/agenda?jour={jour - timedelta(days=1)}"',
        f'href="/agenda?jour={jour + timedelta(days=1)}"',
    ):
        assert expected in page.text, expected
    assert "Sam Roy" not in page.text and "Lou Petit" not in page.text


async def test_the_day_defaults_to_today_in_the_territoire_zone(new_browser: Any) -> None:
    # Kiribati's line islands are 14 hours ahead of UTC: most of the day, another date.
    territoire = await factories.territoire(fuseau_horaire="Pacific/Kiritimati")
    agent = await factories.agent(territoire)
    browser = await signed_in(new_browser, agent)
    page = await browser.http.get("/agenda")
    today_there = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    assert f"Agenda du {date_longue(today_there)}" in page.text


async def test_the_week_lists_the_agents_rdvs_day_by_day_with_the_previous_and_next_weeks(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["agent"])
    wednesday = equipe["jour"] + timedelta(days=2)
    await book(
        equipe["agent"],
        equipe["site_a"],
        equipe["motif"],
        at(wednesday, "14:00"),
        Personne("Nour", "Haddad", "0611223344"),
    )
    page = await browser.http.get("/agenda/semaine", params={"du": wednesday.isoformat()})
    assert page.status_code == 200
    text = page.text
    monday, sunday = equipe["jour"], equipe["jour"] + timedelta(days=6)
    assert f"Semaine du {date_longue(monday)} au {date_longue(sunday)}" in text
    assert text.index("Élodie Le Goff") < text.index("Mercredi") < text.index("Nour Haddad")
    assert "14:00–14:30" in text and "Sam Roy" not in text
    assert f'href="/agenda/semaine?du={monday - timedelta(days=7)}"' in text
    assert f'href="/agenda/semaine?du={monday + timedelta(days=7)}"' in text


AGENT_PAGES = (
    "/agenda",
    "/agenda/semaine",
    "/agenda/rdv/nouveau",
    "/agenda/plages",
    "/agenda/plages/nouvelle",
    "/agenda/absences",
    "/agenda/absences/nouvelle",
)


@pytest.mark.parametrize(
    ("viewer", "owner", "expected"),
    [
        ("admin", "agent_b", 200),
        ("responsable", "agent", 200),
        ("responsable", "agent_b", 403),
        ("agent", "collegue", 403),
        ("autre_admin", "agent", 404),
    ],
)
async def test_another_agents_pages_open_for_their_admin_or_responsable_only(
    new_browser: Any, equipe: dict[str, Any], viewer: str, owner: str, expected: int
) -> None:
    browser = await signed_in(new_browser, equipe[viewer])
    for path in AGENT_PAGES:
        response = await browser.http.get(path, params={"agent": equipe[owner].id})
        assert response.status_code == expected, path
    if expected == 200:
        page = await browser.http.get(
            "/agenda", params={"agent": equipe[owner].id, "jour": equipe["jour"].isoformat()}
        )
        assert f"{equipe[owner].prenom} {equipe[owner].nom}" in page.text


async def test_signed_out_visitors_are_sent_to_the_sign_in_page(
    client: httpx.AsyncClient, equipe: dict[str, Any]
) -> None:
    for path in ("/agenda", f"/agenda/site/{equipe['site_a'].id}", "/agenda/flux"):
        response = await client.get(path)
        assert response.status_code == 302
        assert response.headers["location"].startswith("/connexion?suivant=")


# Statuses -----------------------------------------------------------------------------


async def test_an_agent_marks_their_rdv_vu_and_the_change_is_logged_with_them(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["agent"])
    rdv_id, jour = equipe["rdvs"]["agent"], equipe["jour"]
    response = await browser.post_form(
        f"/agenda/rdv/{rdv_id}/statut", {"statut": "vu", "retour": f"/agenda?jour={jour}"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/agenda?jour={jour}&enregistre=1#rdv-{rdv_id}"
    assert await statut(rdv_id) == "vu"
    last = (
        await RdvHistorique.select()
        .where(RdvHistorique.rdv == rdv_id)
        .order_by(RdvHistorique.id, ascending=False)
        .first()
    )
    assert last is not None
    assert (last["evenement"], last["statut"], last["acteur"], last["agent"]) == (
        "statut",
        "vu",
        "agent",
        equipe["agent"].id,
    )
    page = await browser.http.get(response.headers["location"])
    card = page.text[page.text.index(f'id="rdv-{rdv_id}"') :]
    card = card[: card.index("</li>\n</ol>") if "</li>\n</ol>" in card else None]
    assert "Modifications enregistrées." in page.text
    assert "Statut : <span" in card and ">Vu</span>" in card
    assert "Marquer absent" in card and "Remettre à venir" in card and "Marquer vu" not in card


async def test_the_return_address_after_a_status_change_stays_on_the_agenda(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["agent"])
    rdv_id = equipe["rdvs"]["agent"]
    for retour in ("https://evil.example/agenda", "//evil.example", "/admin"):
        response = await browser.post_form(
            f"/agenda/rdv/{rdv_id}/statut", {"statut": "vu", "retour": retour}
        )
        assert response.headers["location"].startswith(f"/agenda?jour={equipe['jour']}")


@pytest.mark.parametrize(
    ("who", "rdv", "expected"),
    [
        ("agent", "agent", 303),
        ("agent", "collegue", 403),
        ("responsable", "collegue", 303),
        ("responsable", "agent_b", 403),
        ("admin", "agent_b", 303),
        ("autre_admin", "agent", 404),
    ],
)
async def test_who_may_mark_whose_rdv(
    new_browser: Any, equipe: dict[str, Any], who: str, rdv: str, expected: int
) -> None:
    browser = await signed_in(new_browser, equipe[who])
    rdv_id = equipe["rdvs"][rdv]
    response = await browser.post_form(f"/agenda/rdv/{rdv_id}/statut", {"statut": "absent"})
    assert response.status_code == expected
    assert await statut(rdv_id) == ("absent" if expected == 303 else "a_venir")
    confirmation = await browser.http.get(f"/agenda/rdv/{rdv_id}/annuler")
    assert confirmation.status_code == (200 if expected == 303 else expected)
    if expected == 303:
        logged = await RdvHistorique.select(RdvHistorique.agent).where(
            RdvHistorique.rdv == rdv_id, RdvHistorique.statut == "absent"
        )
        assert [row["agent"] for row in logged] == [equipe[who].id]


async def test_a_cancelled_rdv_cannot_be_marked_vu_which_answers_409_and_changes_nothing(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["agent"])
    rdv_id = equipe["rdvs"]["agent"]
    confirmation = await browser.http.get(f"/agenda/rdv/{rdv_id}/annuler")
    assert "Confirmer l'annulation" in confirmation.text and "Élodie Le Goff" in confirmation.text
    cancelled = await browser.post_form(
        f"/agenda/rdv/{rdv_id}/statut", {"statut": "annule", "motif": "Agent malade"}
    )
    assert cancelled.status_code == 303
    refused = await browser.post_form(f"/agenda/rdv/{rdv_id}/statut", {"statut": "vu"})
    assert refused.status_code == 409
    assert "Un rendez-vous annulé ne peut pas devenir vu." in refused.text
    assert await statut(rdv_id) == "annule"
    unknown = await browser.post_form(f"/agenda/rdv/{rdv_id}/statut", {"statut": "parti"})
    assert unknown.status_code == 422
    history = (
        await RdvHistorique.select(RdvHistorique.statut, RdvHistorique.details)
        .where(RdvHistorique.rdv == rdv_id)
        .order_by(RdvHistorique.id)
        .output(load_json=True)
    )
    assert [h["statut"] for h in history] == ["a_venir", "annule"]
    assert history[1]["details"]["motif"] == "Agent malade"
    page = await browser.http.get("/agenda", params={"jour": equipe["jour"].isoformat()})
    card = page.text[page.text.index(f'id="rdv-{rdv_id}"') :]
    assert "Annulé par le service" in card[:2000] and "Marquer vu" not in card[:2000]


# Booking on the phone ---------------------------------------------------------------


def phone_booking(equipe: dict[str, Any], **values: str) -> dict[str, str]:
    data = {
        "prenom": "Inès",
        "nom": "Moreau",
        "telephone": "07 81 22 33 44",
        "email": "",
        "motif": str(equipe["motif_agent"].id),
        "site": str(equipe["site_a"].id),
        "jour": equipe["jour_a_venir"].isoformat(),
        "heure": "18:45",
    }
    data.update(values)
    return data


async def test_an_agent_books_on_the_phone_outside_any_plage_with_an_agent_only_motif(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["agent"])
    form = await browser.http.get("/agenda/rdv/nouveau")
    assert "Visite à domicile (30 min), réservé aux agents" in form.text
    assert "Aide sociale" not in form.text  # not one of the agent's services
    assert await PlageOuverture.count().where(PlageOuverture.agent == equipe["agent"].id) == 0
    response = await browser.post_form("/agenda/rdv/nouveau", phone_booking(equipe))
    assert response.status_code == 303, response.text
    rdv = (
        await Rdv.select()
        .where(Rdv.agent == equipe["agent"].id, Rdv.motif == equipe["motif_agent"].id)
        .first()
    )
    assert rdv is not None
    assert rdv["debut"] == at(equipe["jour_a_venir"], "18:45").astimezone(UTC)
    assert rdv["canal_creation"] == "agent" and rdv["cree_par_agent"] == equipe["agent"].id
    assert response.headers["location"] == (
        f"/agenda?jour={equipe['jour_a_venir']}&enregistre=1#rdv-{rdv['id']}"
    )
    created = await RdvHistorique.select().where(RdvHistorique.rdv == rdv["id"]).first()
    assert created is not None
    assert (created["evenement"], created["acteur"], created["agent"]) == (
        "cree",
        "agent",
        equipe["agent"].id,
    )
    page = await browser.http.get(response.headers["location"])
    assert "18:45–19:15" in page.text and "Inès Moreau" in page.text


async def test_an_agent_books_for_a_relative_of_the_caller_who_stays_the_contact(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["agent"])
    form = await browser.http.get("/agenda/rdv/nouveau")
    assert "Pour un proche (facultatif)" in form.text
    before = await Rdv.count().where(Rdv.agent == equipe["agent"].id)
    incomplete = await browser.post_form(
        "/agenda/rdv/nouveau", phone_booking(equipe, proche_prenom="Léo", heure="17:00")
    )
    assert incomplete.status_code == 422
    assert 'id="proche_nom-erreur">Le nom du proche est obligatoire.' in incomplete.text
    assert await Rdv.count().where(Rdv.agent == equipe["agent"].id) == before
    response = await browser.post_form(
        "/agenda/rdv/nouveau",
        phone_booking(
            equipe, proche_prenom="Léo", proche_nom="Moreau", proche_date_naissance="2021-03-14"
        ),
    )
    assert response.status_code == 303, response.text
    rdv = (
        await Rdv.select()
        .where(Rdv.agent == equipe["agent"].id)
        .order_by(Rdv.id, ascending=False)
        .first()
    )
    (participant,) = await RdvParticipant.select(
        RdvParticipant.usager.prenom,
        RdvParticipant.usager.telephone,
        RdvParticipant.usager.date_naissance,
        RdvParticipant.usager.responsable.prenom,
        RdvParticipant.usager.responsable.telephone,
    ).where(RdvParticipant.rdv == rdv["id"])
    assert participant["usager.prenom"] == "Léo" and participant["usager.telephone"] == ""
    assert participant["usager.date_naissance"] == date(2021, 3, 14)
    # The caller is the contact: their mobile gets the messages.
    assert participant["usager.responsable.prenom"] == "Inès"
    assert participant["usager.responsable.telephone"] == "+33781223344"
    page = await browser.http.get(response.headers["location"])
    assert "Léo Moreau" in page.text


async def test_booking_over_another_rdv_of_the_agent_gives_a_409_page_with_the_message(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["agent"])
    await book(
        equipe["agent"],
        equipe["site_a"],
        equipe["motif"],
        at(equipe["jour_a_venir"], "09:00"),
        Personne("Élodie", "Le Goff", "0612345678"),
    )
    before = await Rdv.count().where(Rdv.agent == equipe["agent"].id)
    response = await browser.post_form("/agenda/rdv/nouveau", phone_booking(equipe, heure="09:15"))
    assert response.status_code == 409
    assert "Vous avez déjà un rendez-vous qui chevauche 09:15–09:45" in response.text
    assert "09:00–09:30 (Consultation nourrisson)" in response.text
    assert 'value="Inès"' in response.text  # what was typed is kept
    assert await Rdv.count().where(Rdv.agent == equipe["agent"].id) == before


async def test_bad_booking_input_is_listed_field_by_field_and_nothing_is_booked(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["agent"])
    before = await Rdv.count()
    yesterday = (datetime.now(PARIS) - timedelta(days=1)).date().isoformat()
    response = await browser.post_form(
        "/agenda/rdv/nouveau",
        phone_booking(
            equipe,
            telephone="",
            prenom="",
            motif=str(equipe["motif_social"].id),
            site=str(equipe["site_b"].id),
            jour=yesterday,
        ),
    )
    assert response.status_code == 422
    for message in (
        "Le prénom est obligatoire.",
        "Le numéro de téléphone portable est obligatoire.",
        "Choisissez un motif.",
        "Choisissez un site.",
        "Cette date et cette heure sont déjà passées.",
    ):
        assert message in response.text, message
    assert await Rdv.count() == before


async def test_an_admin_books_in_another_agents_agenda_which_an_agent_may_not(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    admin = await signed_in(new_browser, equipe["admin"])
    collegue = equipe["collegue"]
    response = await admin.post_form(
        f"/agenda/rdv/nouveau?agent={collegue.id}", phone_booking(equipe, heure="16:00")
    )
    assert response.status_code == 303
    assert f"agent={collegue.id}" in response.headers["location"]
    rdv = (
        await Rdv.select()
        .where(Rdv.agent == collegue.id, Rdv.canal_creation == "agent")
        .order_by(Rdv.id)
    )
    assert [r["cree_par_agent"] for r in rdv] == [collegue.id, equipe["admin"].id]
    agent = await signed_in(new_browser, equipe["agent"])
    refused = await agent.post_form(
        f"/agenda/rdv/nouveau?agent={collegue.id}", phone_booking(equipe, heure="17:00")
    )
    assert refused.status_code == 403


async def test_usagers_are_found_by_name_or_phone_within_the_territoire_only(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    ours = await factories.usager(
        equipe["territoire"], prenom="Margaux", nom="Dufresne", telephone="+33698765432"
    )
    other_territoire = await factories.territoire()
    theirs = await factories.usager(
        other_territoire, prenom="Margaux", nom="Dufresne", telephone="+33698765432"
    )
    browser = await signed_in(new_browser, equipe["agent"])
    for q in ("dufresne", "margaux duf", "06 98 76", "+33 6 98 76 54 32"):
        page = await browser.http.get("/agenda/rdv/nouveau", params={"q": q})
        assert f"usager={ours.id}" in page.text, q
        assert f"usager={theirs.id}" not in page.text, q
    nothing = await browser.http.get("/agenda/rdv/nouveau", params={"q": "Zzyzx"})
    assert "Aucun usager trouvé" in nothing.text
    chosen = await browser.http.get("/agenda/rdv/nouveau", params={"usager": ours.id})
    assert 'value="Margaux"' in chosen.text and 'value="06 98 76 54 32"' in chosen.text
    other = await browser.http.get("/agenda/rdv/nouveau", params={"usager": theirs.id})
    assert other.status_code == 404


async def test_the_search_ignores_case_accents_and_hyphens(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    helene = await factories.usager(
        equipe["territoire"], prenom="Hélène", nom="Lefèvre-Œuvray", telephone="+33698760001"
    )
    other = await factories.usager(
        equipe["territoire"], prenom="Helena", nom="Lefort", telephone="+33698760002"
    )
    browser = await signed_in(new_browser, equipe["agent"])
    for q in ("helene", "HÉLÈNE lefevre", "lefèvre oeuvray", "Lefevre-Oeuvray", "éne œuv"):
        page = await browser.http.get("/agenda/rdv/nouveau", params={"q": q})
        assert f"usager={helene.id}" in page.text, q
        assert f"usager={other.id}" not in page.text, q
    both = await browser.http.get("/agenda/rdv/nouveau", params={"q": "hélen"})
    assert f"usager={helene.id}" in both.text and f"usager={other.id}" in both.text


# Plages d'ouverture -----------------------------------------------------------------


def plage_form(equipe: dict[str, Any], **values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "titre": "Consultations",
        "site": str(equipe["site_a"].id),
        "motifs": [str(equipe["motif"].id), str(equipe["motif_agent"].id)],
        "heure_debut": "09:00",
        "heure_fin": "12:30",
        "jours": ["TH", "MO"],
        "frequence": "2",
        "premier_jour": equipe["jour"].isoformat(),
        "fin": "",
    }
    data.update(values)
    return data


async def plage_motifs(plage_id: int) -> set[int]:
    rows = await PlageMotif.select(PlageMotif.motif).where(PlageMotif.plage == plage_id)
    return {row["motif"] for row in rows}


async def test_a_plage_every_two_weeks_on_monday_and_thursday_is_stored_as_its_rrule(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["agent"])
    response = await browser.post_form("/agenda/plages/nouvelle", plage_form(equipe))
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/agenda/plages/(\d+)\?enregistre=1", response.headers["location"])
    assert match
    plage = await PlageOuverture.select().where(PlageOuverture.id == int(match[1])).first()
    assert plage is not None
    assert plage["rrule"] == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH"
    assert (plage["agent"], plage["site"], plage["premier_jour"], plage["fin"]) == (
        equipe["agent"].id,
        equipe["site_a"].id,
        equipe["jour"],
        None,
    )
    assert plage["heure_debut"].isoformat() == "09:00:00"
    assert plage["heure_fin"].isoformat() == "12:30:00"
    assert await plage_motifs(plage["id"]) == {equipe["motif"].id, equipe["motif_agent"].id}
    listing = await browser.http.get("/agenda/plages")
    assert "Toutes les 2 semaines : lundi, jeudi" in listing.text
    every_week = await browser.post_form(
        "/agenda/plages/nouvelle", plage_form(equipe, jours=["FR"], frequence="1")
    )
    assert every_week.status_code == 303
    assert await PlageOuverture.exists().where(
        PlageOuverture.agent == equipe["agent"].id, PlageOuverture.rrule == "FREQ=WEEKLY;BYDAY=FR"
    )


async def test_the_plage_form_refuses_no_day_no_motif_and_an_end_before_the_start(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["agent"])
    response = await browser.post_form(
        "/agenda/plages/nouvelle",
        plage_form(
            equipe,
            jours=[],
            motifs=[],
            heure_debut="14:00",
            heure_fin="09:00",
            fin=(equipe["jour"] - timedelta(days=1)).isoformat(),
        ),
    )
    assert response.status_code == 422
    for message in (
        "Cochez au moins un jour.",
        "Cochez au moins un motif.",
        "L'heure de fin doit être après l'heure de début.",
        "Le dernier jour doit être après le premier jour.",
    ):
        assert message in html.unescape(response.text), message
    wrong_service = await browser.post_form(
        "/agenda/plages/nouvelle",
        plage_form(equipe, motifs=[str(equipe["motif_social"].id)], site="999999"),
    )
    assert wrong_service.status_code == 422
    assert "Choix invalide." in wrong_service.text and "Choisissez un site." in wrong_service.text
    assert await PlageOuverture.count().where(PlageOuverture.agent == equipe["agent"].id) == 0


async def test_editing_a_plage_replaces_its_days_and_motifs_and_deleting_it_removes_it(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["agent"])
    created = await browser.post_form("/agenda/plages/nouvelle", plage_form(equipe))
    url = created.headers["location"].split("?")[0]
    plage_id = int(url.rsplit("/", 1)[1])
    form = await browser.http.get(url)
    assert 'id="jours-MO" name="jours" value="MO" checked' in form.text
    assert 'id="frequence-2" name="frequence" value="2" checked' in form.text
    saved = await browser.post_form(
        url,
        plage_form(
            equipe,
            jours=["WE"],
            frequence="1",
            motifs=[str(equipe["motif"].id)],
            fin=(equipe["jour"] + timedelta(days=60)).isoformat(),
        ),
    )
    assert saved.status_code == 303
    plage = await PlageOuverture.select().where(PlageOuverture.id == plage_id).first()
    assert plage is not None and plage["rrule"] == "FREQ=WEEKLY;BYDAY=WE"
    assert plage["fin"] == equipe["jour"] + timedelta(days=60)
    assert await plage_motifs(plage_id) == {equipe["motif"].id}
    deleted = await browser.post_form(f"{url}/supprimer", {})
    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/agenda/plages?enregistre=1"
    assert not await PlageOuverture.exists().where(PlageOuverture.id == plage_id)
    assert not await PlageMotif.exists().where(PlageMotif.plage == plage_id)


async def test_a_plage_made_by_an_import_keeps_its_rule_until_days_are_ticked(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    plage = await factories.plage(
        equipe["agent"], equipe["site_a"], [equipe["motif"]], rrule="FREQ=MONTHLY;BYMONTHDAY=1"
    )
    browser = await signed_in(new_browser, equipe["agent"])
    form = await browser.http.get(f"/agenda/plages/{plage.id}")
    assert "Règle FREQ=MONTHLY;BYMONTHDAY=1" in form.text
    kept = await browser.post_form(
        f"/agenda/plages/{plage.id}",
        plage_form(equipe, jours=[], frequence="garder", heure_fin="11:00"),
    )
    assert kept.status_code == 303
    row = await PlageOuverture.select().where(PlageOuverture.id == plage.id).first()
    assert row is not None and row["rrule"] == "FREQ=MONTHLY;BYMONTHDAY=1"
    assert row["heure_fin"].isoformat() == "11:00:00"


@pytest.mark.parametrize(
    ("who", "owner", "site", "expected"),
    [
        ("responsable", "collegue", "site_a", 303),
        ("responsable", "agent_b", "site_b", 403),
        ("agent", "collegue", "site_a", 403),
        ("admin", "agent_b", "site_b", 303),
        ("autre_admin", "agent", "site_a", 404),
    ],
)
async def test_who_may_manage_whose_plages(
    new_browser: Any, equipe: dict[str, Any], who: str, owner: str, site: str, expected: int
) -> None:
    existing = await factories.plage(equipe[owner], equipe[site], [equipe["motif"]])
    browser = await signed_in(new_browser, equipe[who])
    created = await browser.post_form(
        f"/agenda/plages/nouvelle?agent={equipe[owner].id}",
        plage_form(equipe, site=str(equipe[site].id)),
    )
    assert created.status_code == expected
    edit = await browser.http.get(f"/agenda/plages/{existing.id}")
    assert edit.status_code == (200 if expected == 303 else expected)
    deleted = await browser.post_form(f"/agenda/plages/{existing.id}/supprimer", {})
    assert deleted.status_code == expected
    still_there = await PlageOuverture.exists().where(PlageOuverture.id == existing.id)
    assert still_there == (expected != 303)
    # One created and the existing one deleted, or nothing changed.
    assert await PlageOuverture.count().where(PlageOuverture.agent == equipe[owner].id) == 1


async def test_a_responsable_opens_plages_for_an_agent_only_at_the_sites_they_manage(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    # Sacha works at both sites; Rose manages site A only.
    from sites.tables import AgentSite

    await AgentSite(agent=equipe["agent_b"].id, site=equipe["site_a"].id).save()
    browser = await signed_in(new_browser, equipe["responsable"])
    agent_b = equipe["agent_b"].id
    form = await browser.http.get("/agenda/plages/nouvelle", params={"agent": agent_b})
    assert equipe["site_a"].nom in form.text and equipe["site_b"].nom not in form.text
    refused = await browser.post_form(
        f"/agenda/plages/nouvelle?agent={agent_b}",
        plage_form(equipe, site=str(equipe["site_b"].id)),
    )
    assert refused.status_code == 422 and "Choisissez un site." in refused.text


# Absences ----------------------------------------------------------------------------


async def test_an_absence_typed_in_local_time_is_stored_in_utc_and_can_repeat_weekly(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["agent"])
    jour = equipe["jour"]
    response = await browser.post_form(
        "/agenda/absences/nouvelle",
        {
            "titre": "Réunion d'équipe",
            "debut_jour": jour.isoformat(),
            "debut_heure": "14:00",
            "fin_jour": jour.isoformat(),
            "fin_heure": "16:30",
            "hebdomadaire": "on",
            "jusqu_au": (jour + timedelta(days=28)).isoformat(),
        },
    )
    assert response.status_code == 303, response.text
    absence = await Absence.select().where(Absence.agent == equipe["agent"].id).first()
    assert absence is not None
    assert absence["debut"] == at(jour, "14:00").astimezone(UTC)
    assert absence["fin"] == at(jour, "16:30").astimezone(UTC)
    assert absence["rrule"] == f"FREQ=WEEKLY;UNTIL={jour + timedelta(days=28):%Y%m%d}"
    listing = await browser.http.get("/agenda/absences")
    assert "Réunion d'équipe" in listing.text or "Réunion d&#39;équipe" in listing.text
    assert f"{jour:%d/%m/%Y} 14:00" in listing.text and "Chaque lundi, jusqu'au" in (
        listing.text.replace("&#39;", "'")
    )


async def test_an_absence_ending_before_it_starts_is_refused(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["agent"])
    jour = equipe["jour"].isoformat()
    response = await browser.post_form(
        "/agenda/absences/nouvelle",
        {"debut_jour": jour, "debut_heure": "14:00", "fin_jour": jour, "fin_heure": "13:00"},
    )
    assert response.status_code == 422
    assert "La fin doit être après le début." in response.text
    assert not await Absence.exists().where(Absence.agent == equipe["agent"].id)


async def test_absences_are_deleted_by_their_agent_or_responsable_but_not_by_a_colleague(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    debut = at(equipe["jour"], "08:00")
    absence = Absence(agent=equipe["agent"].id, debut=debut, fin=debut + timedelta(hours=2))
    await absence.save()
    collegue = await signed_in(new_browser, equipe["collegue"])
    assert (
        await collegue.post_form(f"/agenda/absences/{absence.id}/supprimer", {})
    ).status_code == 403
    outsider = await signed_in(new_browser, equipe["autre_admin"])
    assert (
        await outsider.post_form(f"/agenda/absences/{absence.id}/supprimer", {})
    ).status_code == 404
    assert await Absence.exists().where(Absence.id == absence.id)
    responsable = await signed_in(new_browser, equipe["responsable"])
    deleted = await responsable.post_form(f"/agenda/absences/{absence.id}/supprimer", {})
    assert deleted.status_code == 303
    assert (
        deleted.headers["location"] == f"/agenda/absences?agent={equipe['agent'].id}&enregistre=1"
    )
    assert not await Absence.exists().where(Absence.id == absence.id)


# The site's day --------------------------------------------------------------------


async def test_the_site_day_shows_every_agent_of_the_site_and_no_rdv_of_another_site(
    new_browser: Any, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["responsable"])
    page = await browser.http.get(
        f"/agenda/site/{equipe['site_a'].id}", params={"jour": equipe["jour"].isoformat()}
    )
    assert page.status_code == 200
    text = page.text
    for agent in ("agent", "collegue", "responsable"):
        assert f"{equipe[agent].prenom} {equipe[agent].nom}" in text, agent
    assert "Élodie Le Goff" in text and "Sam Roy" in text
    assert "Lou Petit" not in text and equipe["agent_b"].nom not in text
    assert "Imprimer" in text
    # Rose has no rdv that day: her agenda is there, empty.
    rose = text.index(f'id="agent-{equipe["responsable"].id}"')
    assert "Aucun rendez-vous." in text[rose : rose + 300]
    css = await browser.http.get("/static/style.css")
    assert "@media print" in css.text and ".rdv-actions" in css.text


@pytest.mark.parametrize(
    ("who", "site", "expected"),
    [
        ("responsable", "site_a", 200),
        ("responsable", "site_b", 403),
        ("agent", "site_a", 403),
        ("admin", "site_b", 200),
        ("autre_admin", "site_a", 404),
    ],
)
async def test_who_may_open_a_sites_day(
    new_browser: Any, equipe: dict[str, Any], who: str, site: str, expected: int
) -> None:
    browser = await signed_in(new_browser, equipe[who])
    response = await browser.http.get(f"/agenda/site/{equipe[site].id}")
    assert response.status_code == expected


# The private ICS feed ---------------------------------------------------------------


TOKEN = re.compile(r"/flux/([A-Za-z0-9_-]{43})\.ics")


async def test_the_feed_lists_the_agents_rdvs_in_local_time_and_cancelled_ones_as_cancelled(
    new_browser: Any, client: httpx.AsyncClient, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["agent"])
    cancelled = await book(
        equipe["agent"],
        equipe["site_a"],
        equipe["motif"],
        at(equipe["jour"], "15:00"),
        Personne("Yanis", "Blanc", "0622334455"),
    )
    await browser.post_form(f"/agenda/rdv/{cancelled}/statut", {"statut": "annule"})
    page = await browser.http.get("/agenda/flux")
    assert page.headers["cache-control"] == "no-store"
    match = TOKEN.search(page.text)
    assert match, page.text
    token = match[1]
    stored = await FluxIcs.select().where(FluxIcs.agent == equipe["agent"].id)
    assert [row["token_hash"] for row in stored] == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in str(stored)

    feed = await client.get(f"/flux/{token}.ics")  # no session
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    events = {str(e["UID"]): e for e in Calendar.from_ical(feed.content).walk("VEVENT")}
    host = "127.0.0.1"  # PUBLIC_URL of the tests
    ours = f"rdv-{equipe['rdvs']['agent']}@{host}"
    assert set(events) == {ours, f"rdv-{cancelled}@{host}"}
    start = events[ours]["DTSTART"]
    assert start.params["TZID"] == "Europe/Paris"
    assert isinstance(start.dt, datetime)
    assert start.dt.replace(tzinfo=None) == at(equipe["jour"], "09:00").replace(tzinfo=None)
    assert "Élodie Le Goff" in str(events[ours]["SUMMARY"])
    assert str(events[ours]["STATUS"]) == "CONFIRMED"
    assert str(events[f"rdv-{cancelled}@{host}"]["STATUS"]) == "CANCELLED"
    # Calendar services get no phone number, and no code that would let them cancel the rdv.
    code = await Rdv.select(Rdv.code).where(Rdv.id == equipe["rdvs"]["agent"]).first()
    assert code is not None and code["code"].encode() not in feed.content
    assert b"+33612345678" not in feed.content and b"06 12 34 56 78" not in feed.content

    again = await browser.http.get("/agenda/flux")
    assert TOKEN.search(again.text) is None and "Un abonnement existe depuis le" in again.text


async def test_a_revoked_or_unknown_feed_address_gives_an_empty_404(
    new_browser: Any, client: httpx.AsyncClient, equipe: dict[str, Any]
) -> None:
    browser = await signed_in(new_browser, equipe["agent"])
    first = TOKEN.search((await browser.http.get("/agenda/flux")).text)
    assert first
    assert (await client.get(f"/flux/{first[1]}.ics")).status_code == 200
    revoked = await browser.post_form("/agenda/flux/revoquer", {})
    assert revoked.status_code == 303 and revoked.headers["location"] == "/agenda/flux"
    second = TOKEN.search((await browser.http.get("/agenda/flux")).text)
    assert second and second[1] != first[1]
    gone = await client.get(f"/flux/{first[1]}.ics")
    assert gone.status_code == 404 and gone.content == b""
    for unknown in ("A" * 43 + ".ics", "pas-un-jeton.ics", f"{second[1]}.txt"):
        response = await client.get(f"/flux/{unknown}")
        assert response.status_code == 404 and response.content == b"", unknown
    assert (await client.get(f"/flux/{second[1]}.ics")).status_code == 200
    revoked_at = await FluxIcs.select(FluxIcs.revoked_at).where(FluxIcs.agent == equipe["agent"].id)
    assert sorted(r["revoked_at"] is None for r in revoked_at) == [False, True]


async def test_a_deactivated_agents_feed_stops_at_once(
    new_browser: Any, client: httpx.AsyncClient, equipe: dict[str, Any]
) -> None:
    from sites.tables import Agent

    browser = await signed_in(new_browser, equipe["collegue"])
    token = TOKEN.search((await browser.http.get("/agenda/flux")).text)
    assert token
    await Agent.update({Agent.actif: False}).where(Agent.id == equipe["collegue"].id)
    assert (await client.get(f"/flux/{token[1]}.ics")).status_code == 404


def start_server_with_access_log() -> tuple[subprocess.Popen[bytes], str]:
    """Like the session's server, but at INFO, where uvicorn logs every request's path."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "plateforme.asgi:app", "--host", "127.0.0.1"]
        + ["--port", str(port), "--log-level", "info"],
        cwd=ROOT,
        env={**os.environ, "PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/ready", timeout=1).status_code == 200:
                return process, base_url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not become ready in 30 s")


def stop_and_read_log(process: subprocess.Popen[bytes]) -> str:
    process.terminate()
    output, _ = process.communicate(timeout=10)
    return output.decode()


async def test_the_feed_token_never_reaches_the_access_log(equipe: dict[str, Any]) -> None:
    process, base_url = await asyncio.to_thread(start_server_with_access_log)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            browser = Browser(http)
            assert (await browser.sign_in(equipe["agent_b"].email)).status_code == 303
            token = TOKEN.search((await http.get("/agenda/flux")).text)
            assert token
            assert (await http.get(f"/flux/{token[1]}.ics")).status_code == 200
    finally:
        log = await asyncio.to_thread(stop_and_read_log, process)
    assert '"GET /agenda/flux HTTP/1.1" 200' in log  # the access log is on
    assert '"GET /flux/… HTTP/1.1" 200' in log
    assert token[1] not in log

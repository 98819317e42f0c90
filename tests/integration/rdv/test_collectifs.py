"""Collective sessions on a real server: agents open them, the public joins one seat at a
time with a code of its own, and a session never holds more people than its seats."""

from __future__ import annotations

import asyncio
import html
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import icalendar
import pytest

from rdv.services import reservation
from rdv.tables import Rdv, RdvHistorique, RdvParticipant
from tests import factories
from tests.integration.conftest import Browser

PERSONNE = {"prenom": "Camille", "nom": "Martin", "telephone": "06 12 34 56 78"}


@pytest.fixture
async def atelier() -> dict[str, Any]:
    """A collective motif of three seats, a session on Monday 14:00 and one on Tuesday."""
    territoire = await factories.territoire()
    code = factories.unique("pmi").replace(" ", "").lower()
    service = await factories.service(territoire, code=code, nom="Protection maternelle")
    site = await factories.site(territoire, services=[service], nom=factories.unique("PMI"))
    agent = await factories.agent(territoire, services=[service], sites=[site], prenom="Rose")
    motif = await factories.motif(
        service,
        nom=factories.unique("Atelier portage"),
        duree_minutes=90,
        collectif=True,
        capacite=3,
    )
    # A plage offering the motif: a collective motif is not booked on plages.
    await factories.plage(agent, site, [motif], heure_debut="09:00", heure_fin="12:00")
    lundi, mardi = factories.monday_at("14:00"), factories.monday_at("14:00") + timedelta(days=1)
    sessions = [await ouvrir(motif, site, agent, debut) for debut in (lundi, mardi)]
    return {
        "territoire": territoire,
        "service": service,
        "site": site,
        "agent": agent,
        "motif": motif,
        "lundi": lundi,
        "mardi": mardi,
        "sessions": sessions,
    }


async def ouvrir(motif: Any, site: Any, agent: Any, debut: datetime) -> int:
    cree = await reservation.ouvrir_session(
        motif.id, site.id, agent.id, debut, agent_createur_id=agent.id
    )
    return cree.id


def seat(atelier: dict[str, Any], debut: datetime, **usager: str) -> dict[str, Any]:
    return {
        "motif_id": atelier["motif"].id,
        "site_id": atelier["site"].id,
        "debut": debut.isoformat(),
        "usager": {**PERSONNE, **usager},
    }


async def week(client: httpx.AsyncClient, atelier: dict[str, Any]) -> list[tuple[str, int]]:
    url = f"/api/motifs/{atelier['motif'].id}/sites/{atelier['site'].id}/creneaux"
    response = await client.get(url, params={"du": atelier["lundi"].date().isoformat()})
    assert response.status_code == 200, response.text
    return [
        (c["debut"][:16], c["places"])
        for jour in response.json()["jours"]
        for c in jour["creneaux"]
    ]


def iso_minute(moment: datetime) -> str:
    return moment.isoformat()[:16]


def active_seats(session_id: int) -> Any:
    return RdvParticipant.count().where(
        RdvParticipant.rdv == session_id, RdvParticipant.statut == "a_venir"
    )


async def test_the_week_offers_the_sessions_with_their_seats_left_and_never_a_full_one(
    client: httpx.AsyncClient, atelier: dict[str, Any]
) -> None:
    lundi, mardi = atelier["lundi"], atelier["mardi"]
    # Only the sessions: not the plage's morning grid.
    assert await week(client, atelier) == [(iso_minute(lundi), 3), (iso_minute(mardi), 3)]
    for i in range(2):
        booked = await client.post("/api/rdv", json=seat(atelier, lundi, nom=f"Martin{i}"))
        assert booked.status_code == 201, booked.text
    assert await week(client, atelier) == [(iso_minute(lundi), 1), (iso_minute(mardi), 3)]
    assert (
        await client.post("/api/rdv", json=seat(atelier, lundi, nom="Dernier"))
    ).status_code == 201
    assert await week(client, atelier) == [(iso_minute(mardi), 3)]

    nearby = await client.get(
        f"/api/motifs/{atelier['motif'].id}/sites", params={"commune": "31555", "limite": 20}
    )
    mine = next(s for s in nearby.json() if s["id"] == atelier["site"].id)
    assert mine["prochain_creneau"]["debut"][:16] == iso_minute(mardi)
    assert mine["prochain_creneau"]["places"] == 3


async def test_twenty_concurrent_bookings_of_a_session_of_three_give_three_seats_and_seventeen_409(
    server: str, atelier: dict[str, Any]
) -> None:
    lundi = atelier["lundi"]
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=server, timeout=60, limits=limits) as http:
        responses = await asyncio.gather(
            *(
                http.post("/api/rdv", json=seat(atelier, lundi, nom=f"Personne{i}"))
                for i in range(20)
            )
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 3 + [409] * 17, [r.text for r in responses if r.status_code >= 500]
    refused = next(r.json() for r in responses if r.status_code == 409)
    assert refused["code"] == "session_complete"
    assert refused["message"] == "Cette session est complète. Choisissez-en une autre."
    assert [(c["debut"][:16], c["places"]) for c in refused["prochains_creneaux"]] == [
        (iso_minute(atelier["mardi"]), 3)
    ]
    session_id = atelier["sessions"][0]
    assert await RdvParticipant.count().where(RdvParticipant.rdv == session_id) == 3
    codes = {r.json()["code"] for r in responses if r.status_code == 201}
    session_code = (await Rdv.select(Rdv.code).where(Rdv.id == session_id).first())["code"]
    assert len(codes) == 3 and session_code not in codes, "each seat has its own code"
    assert await Rdv.count().where(Rdv.motif == atelier["motif"].id) == 2, "no new session"


async def test_a_time_without_a_session_is_no_creneau_and_one_person_is_once_in_a_session(
    client: httpx.AsyncClient, atelier: dict[str, Any]
) -> None:
    nowhere = await client.post(
        "/api/rdv", json=seat(atelier, atelier["lundi"].replace(hour=9, minute=0))
    )
    assert nowhere.status_code == 422 and nowhere.json()["code"] == "creneau_invalide"
    assert (await client.post("/api/rdv", json=seat(atelier, atelier["lundi"]))).status_code == 201
    again = await client.post("/api/rdv", json=seat(atelier, atelier["lundi"], nom="MARTIN"))
    assert again.status_code == 409 and again.json()["code"] == "deja_inscrit"
    assert await active_seats(atelier["sessions"][0]) == 1


async def book_page(browser: Browser, atelier: dict[str, Any], debut: datetime, **who: str) -> str:
    url = str(
        httpx.URL(
            f"/rendez-vous/motif/{atelier['motif'].id}/lieu/{atelier['site'].id}/creneau",
            params={"debut": debut.isoformat()},
        )
    )
    response = await browser.post_form(url, {**PERSONNE, **who})
    assert response.status_code == 303, response.text
    return response.headers["location"]


def code_and_key(location: str) -> tuple[str, str]:
    parts = urlsplit(location)
    return parts.path.rsplit("/", 1)[-1], parse_qs(parts.query)["cle"][0]


async def test_a_participant_cancels_their_own_seat_and_the_session_goes_on_for_the_others(
    new_browser: Any, client: httpx.AsyncClient, atelier: dict[str, Any]
) -> None:
    mine, other = new_browser(), new_browser()
    lundi, session_id = atelier["lundi"], atelier["sessions"][0]
    week_page = await mine.http.get(
        f"/rendez-vous/motif/{atelier['motif'].id}/lieu/{atelier['site'].id}",
        params={"du": lundi.date().isoformat()},
    )
    assert ", 3 places restantes</span>" in week_page.text

    code, key = code_and_key(await book_page(mine, atelier, lundi))
    other_code, _ = code_and_key(await book_page(other, atelier, lundi, prenom="Sacha"))
    page = await mine.http.get(f"/rendez-vous/{code}", params={"cle": key, "fait": "reserve"})
    assert "Rendez-vous confirmé" in page.text and f'<p class="code-rdv">{code}</p>' in page.text
    assert "session collective" in page.text and "Changer de session" in page.text

    done = await mine.post_form(f"/rendez-vous/{code}/annulation", {"cle": key})
    assert done.status_code == 303
    cancelled = await mine.http.get(done.headers["location"])
    assert (
        "Rendez-vous annulé" in cancelled.text and "Votre place dans la session" in cancelled.text
    )

    assert await Rdv.count().where(Rdv.id == session_id, Rdv.statut == "a_venir") == 1
    seats = await RdvParticipant.select(RdvParticipant.code, RdvParticipant.statut).where(
        RdvParticipant.rdv == session_id
    )
    assert sorted((s["code"], s["statut"]) for s in seats) == sorted(
        [(code, "excuse"), (other_code, "a_venir")]
    )
    assert (iso_minute(lundi), 2) in await week(client, atelier), "the seat is free again"

    ics = await mine.http.get(f"/rendez-vous/{code}/rdv.ics", params={"cle": key})
    calendar = icalendar.Calendar.from_ical(ics.content)
    event = next(iter(calendar.walk("VEVENT")))
    assert str(calendar["METHOD"]) == "CANCEL" and event.decoded("SEQUENCE") == 1
    assert str(event["UID"]).startswith("participant-")
    history = (
        await RdvHistorique.select(RdvHistorique.evenement, RdvHistorique.acteur)
        .where(RdvHistorique.rdv == session_id)
        .order_by(RdvHistorique.id)
    )
    assert [(h["evenement"], h["acteur"]) for h in history] == [
        ("cree", "agent"),
        ("inscription", "usager"),
        ("inscription", "usager"),
        ("desinscription", "usager"),
    ]


async def test_a_participant_moves_to_a_session_with_seats_but_not_into_a_full_one(
    browser: Browser, client: httpx.AsyncClient, atelier: dict[str, Any]
) -> None:
    lundi, mardi = atelier["lundi"], atelier["mardi"]
    code, key = code_and_key(await book_page(browser, atelier, lundi))
    # Wednesday's session fills up; Friday's has seats.
    mercredi, vendredi = lundi + timedelta(days=2), lundi + timedelta(days=4)
    await ouvrir(atelier["motif"], atelier["site"], atelier["agent"], mercredi)
    await ouvrir(atelier["motif"], atelier["site"], atelier["agent"], vendredi)
    for i in range(3):
        assert (
            await client.post("/api/rdv", json=seat(atelier, mercredi, nom=f"Plein{i}"))
        ).status_code == 201

    choices = await browser.http.get(
        f"/rendez-vous/{code}/deplacer", params={"cle": key, "du": lundi.date().isoformat()}
    )
    assert f'value="{mardi.isoformat()}"' in choices.text
    assert f'value="{mercredi.isoformat()}"' not in choices.text

    full = await browser.post_form(
        f"/rendez-vous/{code}/deplacer", {"cle": key, "debut": mercredi.isoformat()}
    )
    assert full.status_code == 409 and "Cette session est complète" in html.unescape(full.text)
    assert f'value="{vendredi.isoformat()}"' in full.text, "the next sessions with seats"
    assert ", 3 places restantes" in full.text

    moved = await browser.post_form(
        f"/rendez-vous/{code}/deplacer", {"cle": key, "debut": mardi.isoformat()}
    )
    assert moved.status_code == 303 and "fait=deplace" in moved.headers["location"]
    place = await RdvParticipant.objects().where(RdvParticipant.code == code).first()
    assert place is not None and place.rdv == atelier["sessions"][1] and place.sequence == 1
    assert (iso_minute(lundi), 3) in await week(client, atelier)
    assert (iso_minute(mardi), 2) in await week(client, atelier)
    page = await browser.http.get(moved.headers["location"])
    assert "Vous êtes inscrit à la session du" in page.text


async def test_a_seat_is_found_again_with_its_code_and_the_first_letters_of_the_name(
    browser: Browser, atelier: dict[str, Any]
) -> None:
    browser.http.headers["X-Forwarded-For"] = "10.201.7.1"
    code, key = code_and_key(await book_page(browser, atelier, atelier["mardi"]))
    found = await browser.post_form("/rendez-vous/retrouver", {"code": code, "lettres": "ma"})
    assert found.status_code == 303
    assert found.headers["location"] == f"/rendez-vous/{code}?cle={key}"


async def test_an_agent_opens_a_session_adds_people_and_sees_who_comes_in_the_agenda(
    new_browser: Any, client: httpx.AsyncClient, atelier: dict[str, Any]
) -> None:
    browser: Browser = new_browser()
    assert (await browser.sign_in(atelier["agent"].email)).status_code == 303
    jeudi = atelier["lundi"] + timedelta(days=3)
    form = {
        "motif": atelier["motif"].id,
        "site": atelier["site"].id,
        "jour": jeudi.date().isoformat(),
        "heure": "14:00",
    }
    opened = await browser.post_form("/agenda/rdv/nouveau", {**form, "prenom": "", "nom": ""})
    assert opened.status_code == 303, opened.text
    assert (iso_minute(jeudi), 3) in await week(client, atelier), "open to the public at once"

    for prenom in ("Nina", "Omar"):
        added = await browser.post_form(
            "/agenda/rdv/nouveau",
            {**form, "prenom": prenom, "nom": "Haddad", "telephone": "0611223344"},
        )
        assert added.status_code == 303, added.text
    assert await Rdv.count().where(Rdv.motif == atelier["motif"].id) == 3, "one session"
    booked = await client.post("/api/rdv", json=seat(atelier, jeudi, prenom="Lou"))
    assert booked.status_code == 201
    full = await browser.post_form(
        "/agenda/rdv/nouveau", {**form, "prenom": "Zoé", "nom": "Roy", "telephone": "0611223355"}
    )
    assert full.status_code == 409
    assert "La session de 14:00 est complète (3 places)" in html.unescape(full.text)

    agenda = html.unescape(
        (await browser.http.get("/agenda", params={"jour": jeudi.date().isoformat()})).text
    )
    assert "Session collective : 3 inscrits sur 3 places" in agenda
    for name in ("Nina Haddad", "Omar Haddad", "Lou Martin"):
        assert name in agenda
    # Monday's session, without anyone yet.
    monday = html.unescape(
        (
            await browser.http.get("/agenda", params={"jour": atelier["lundi"].date().isoformat()})
        ).text
    )
    assert "Session collective : 0 inscrit sur 3 places" in monday and "Aucun participant" in monday


async def test_when_the_service_cancels_a_session_its_participants_calendars_follow(
    new_browser: Any, atelier: dict[str, Any]
) -> None:
    mine: Browser = new_browser()
    code, key = code_and_key(await book_page(mine, atelier, atelier["mardi"]))
    agent: Browser = new_browser()
    await agent.sign_in(atelier["agent"].email)
    cancelled = await agent.post_form(
        f"/agenda/rdv/{atelier['sessions'][1]}/statut", {"statut": "annule"}
    )
    assert cancelled.status_code == 303
    page = await mine.http.get(f"/rendez-vous/{code}", params={"cle": key})
    assert "Rendez-vous annulé" in page.text
    ics = await mine.http.get(f"/rendez-vous/{code}/rdv.ics", params={"cle": key})
    event = next(iter(icalendar.Calendar.from_ical(ics.content).walk("VEVENT")))
    assert str(event["STATUS"]) == "CANCELLED" and event.decoded("SEQUENCE") == 1
    refused = await mine.http.get(
        f"/rendez-vous/motif/{atelier['motif'].id}/lieu/{atelier['site'].id}/creneau",
        params={"debut": atelier["mardi"].isoformat()},
    )
    assert refused.status_code == 422, "a cancelled session takes nobody"


async def test_the_agent_marks_each_participant_of_a_session_vu_or_absent_and_may_correct_it(
    new_browser: Any, client: httpx.AsyncClient, atelier: dict[str, Any]
) -> None:
    lundi, session_id = atelier["lundi"], atelier["sessions"][0]
    for prenom in ("Nina", "Omar"):
        booked = await client.post("/api/rdv", json=seat(atelier, lundi, prenom=prenom))
        assert booked.status_code == 201, booked.text
    seats = {
        row["prenom"]: row["id"]
        for row in await RdvParticipant.select(
            RdvParticipant.id, RdvParticipant.usager.prenom.as_alias("prenom")
        ).where(RdvParticipant.rdv == session_id)
    }
    agent: Browser = new_browser()
    await agent.sign_in(atelier["agent"].email)

    early = await agent.post_form(f"/agenda/participants/{seats['Nina']}/statut", {"statut": "vu"})
    assert early.status_code == 409, "nobody has come to a session that has not begun"
    assert "pas encore commencé" in html.unescape(early.text)

    # The session began half an hour ago.
    debut = datetime.now(lundi.tzinfo) - timedelta(minutes=30)
    await Rdv.update({Rdv.debut: debut, Rdv.fin: debut + timedelta(minutes=90)}).where(
        Rdv.id == session_id
    )
    jour = debut.astimezone(lundi.tzinfo).date().isoformat()
    for prenom, statut in (("Nina", "vu"), ("Omar", "vu"), ("Omar", "absent")):
        done = await agent.post_form(
            f"/agenda/participants/{seats[prenom]}/statut",
            {"statut": statut, "retour": f"/agenda?jour={jour}"},
        )
        assert done.status_code == 303, done.text
        assert done.headers["location"].endswith(f"#participant-{seats[prenom]}")

    statuses = await RdvParticipant.select(RdvParticipant.id, RdvParticipant.statut).where(
        RdvParticipant.rdv == session_id
    )
    assert {s["id"]: s["statut"] for s in statuses} == {
        seats["Nina"]: "vu",
        seats["Omar"]: "absent",
    }
    assert await Rdv.count().where(Rdv.id == session_id, Rdv.statut == "a_venir") == 1, (
        "the session itself is unchanged"
    )
    page = html.unescape((await agent.http.get("/agenda", params={"jour": jour})).text)
    assert 'Nina Martin · <a href="tel:' in page
    nina = page.split(f'id="participant-{seats["Nina"]}"')[1].split("</li>")[0]
    omar = page.split(f'id="participant-{seats["Omar"]}"')[1].split("</li>")[0]
    assert 'statut-vu">vu</span>' in nina and "Marquer absent" in nina and "Marquer vu" not in nina
    assert 'statut-absent">absent</span>' in omar and "Remettre à venir" in omar
    assert "Désinscrire" not in nina + omar, "someone noted vu or absent is not taken off"
    refused = await agent.post_form(
        f"/agenda/participants/{seats['Nina']}/statut", {"statut": "annule"}
    )
    assert refused.status_code == 409
    assert "Cette session a eu lieu" in html.unescape(refused.text)
    code = (
        await RdvParticipant.select(RdvParticipant.code)
        .where(RdvParticipant.id == seats["Nina"])
        .first()
    )
    assert code is not None
    mine = await client.get(f"/api/rdv/{code['code']}", params={"lettres": "MA"})
    assert mine.json()["statut"] == "vu", "the participant sees their own status"
    assert "Session collective : 2 inscrits sur 3 places" in page, "vu and absent keep their seat"

    history = (
        await RdvHistorique.select(
            RdvHistorique.evenement,
            RdvHistorique.statut,
            RdvHistorique.agent,
            RdvHistorique.details,
        )
        .where(RdvHistorique.rdv == session_id, RdvHistorique.evenement == "presence")
        .order_by(RdvHistorique.id)
        .output(load_json=True)
    )
    assert [(h["statut"], h["details"]["participant"], h["agent"]) for h in history] == [
        ("vu", seats["Nina"], atelier["agent"].id),
        ("vu", seats["Omar"], atelier["agent"].id),
        ("absent", seats["Omar"], atelier["agent"].id),
    ]
    assert history[-1]["details"]["avant"] == "vu"


async def nina_on_monday(client: httpx.AsyncClient, atelier: dict[str, Any]) -> int:
    """Nina books a seat in Monday's session; her seat's id."""
    booked = await client.post("/api/rdv", json=seat(atelier, atelier["lundi"], prenom="Nina"))
    assert booked.status_code == 201, booked.text
    row = (
        await RdvParticipant.select(RdvParticipant.id)
        .where(RdvParticipant.rdv == atelier["sessions"][0])
        .first()
    )
    assert row is not None
    return int(row["id"])


async def test_the_agent_takes_someone_off_a_session_after_a_confirmation_and_frees_the_seat(
    new_browser: Any, client: httpx.AsyncClient, atelier: dict[str, Any]
) -> None:
    lundi, session_id = atelier["lundi"], atelier["sessions"][0]
    seat_id = await nina_on_monday(client, atelier)
    assert (iso_minute(lundi), 2) in await week(client, atelier)
    agent: Browser = new_browser()
    await agent.sign_in(atelier["agent"].email)

    agenda = html.unescape(
        (await agent.http.get("/agenda", params={"jour": lundi.date().isoformat()})).text
    )
    assert f"/agenda/participants/{seat_id}/annuler" in agenda
    confirmation = await agent.http.get(f"/agenda/participants/{seat_id}/annuler")
    assert confirmation.status_code == 200
    assert "Désinscrire Nina Martin" in html.unescape(confirmation.text)
    done = await agent.post_form(f"/agenda/participants/{seat_id}/statut", {"statut": "annule"})
    assert done.status_code == 303
    assert (iso_minute(lundi), 3) in await week(client, atelier), "the seat is free again"
    assert await Rdv.count().where(Rdv.id == session_id, Rdv.statut == "a_venir") == 1
    again = await agent.post_form(f"/agenda/participants/{seat_id}/statut", {"statut": "vu"})
    assert again.status_code == 409, "someone who left cannot be marked as come"
    gone = await agent.http.get(f"/agenda/participants/{seat_id}/annuler")
    assert gone.status_code == 409


async def test_only_the_sessions_agent_or_its_managers_mark_its_participants(
    new_browser: Any, client: httpx.AsyncClient, atelier: dict[str, Any]
) -> None:
    seat_id = await nina_on_monday(client, atelier)
    collegue = await factories.agent(
        atelier["territoire"], services=[atelier["service"]], sites=[atelier["site"]]
    )
    ailleurs = await factories.agent(await factories.territoire(), role="admin")
    url = f"/agenda/participants/{seat_id}"
    for who, expected in ((collegue, 403), (ailleurs, 404)):
        browser: Browser = new_browser()
        await browser.sign_in(who.email)
        refused = await browser.post_form(f"{url}/statut", {"statut": "annule"})
        assert refused.status_code == expected, who.email
        assert (await browser.http.get(f"{url}/annuler")).status_code == expected
    anonymous = await new_browser().post_form(f"{url}/statut", {"statut": "annule"})
    assert anonymous.status_code in (302, 303, 401)
    assert (
        await RdvParticipant.count().where(
            RdvParticipant.id == seat_id, RdvParticipant.statut == "a_venir"
        )
        == 1
    )

    agent: Browser = new_browser()
    await agent.sign_in(atelier["agent"].email)
    unknown = await agent.post_form(f"{url}/statut", {"statut": "parti"})
    assert unknown.status_code == 422
    missing = await agent.post_form("/agenda/participants/999999999/statut", {"statut": "vu"})
    assert missing.status_code == 404


async def test_a_seat_of_a_cancelled_session_is_not_taken_off_again(
    new_browser: Any, client: httpx.AsyncClient, atelier: dict[str, Any]
) -> None:
    seat_id = await nina_on_monday(client, atelier)
    agent: Browser = new_browser()
    await agent.sign_in(atelier["agent"].email)
    cancelled = await agent.post_form(
        f"/agenda/rdv/{atelier['sessions'][0]}/statut", {"statut": "annule"}
    )
    assert cancelled.status_code == 303
    again = await agent.post_json(
        f"/api/agenda/participants/{seat_id}/statut", {"statut": "annule"}
    )
    assert again.status_code == 409 and again.json()["message"] == "Cette session est annulée."
    assert (await agent.http.get(f"/agenda/participants/{seat_id}/annuler")).status_code == 409
    left = await RdvHistorique.count().where(
        RdvHistorique.rdv == atelier["sessions"][0], RdvHistorique.evenement == "desinscription"
    )
    assert left == 0, "no second cancellation for the participant"

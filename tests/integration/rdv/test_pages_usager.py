"""The citizen's booking pages without JavaScript: plain GETs and form POSTs, as a browser does."""

from __future__ import annotations

import html
import itertools
import re
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest

from plateforme.settings import get_settings
from rdv.services import acces_usager
from rdv.tables import Rdv
from tests import factories
from tests.integration.conftest import Browser

PARIS = ZoneInfo("Europe/Paris")
MOIS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
_addresses = itertools.count(100)
PERSONNE = {"prenom": "Camille", "nom": "Martin", "telephone": "06 12 34 56 78", "email": ""}


def monday_in_two_weeks() -> date:
    """Far enough for the 24 h cancellation delay, whatever day the tests run."""
    today = date.today()
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7) + timedelta(weeks=1)


def french_day(day: date) -> str:
    quantieme = "1er" if day.day == 1 else str(day.day)
    return f"lundi {quantieme} {MOIS.split()[day.month - 1]} {day.year}"


def at(day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=PARIS)


@pytest.fixture
async def cabinet() -> dict[str, Any]:
    territoire = await factories.territoire()
    # A service code of its own: other tests' sites and motifs stay out of the pages.
    code = factories.unique("pmi").replace(" ", "").lower()
    service = await factories.service(territoire, code=code, nom="Protection maternelle")
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
        duree_minutes=30,
        delai_min_minutes=0,
        delai_max_jours=60,
        instructions="Apportez le carnet de santé.",
    )
    await factories.plage(agent, site, [motif], heure_debut="09:00", heure_fin="12:00")
    return {"code": code, "service": service, "site": site, "motif": motif, "agent": agent}


def week_url(cabinet: dict[str, Any], day: date) -> str:
    return f"/rendez-vous/motif/{cabinet['motif'].id}/lieu/{cabinet['site'].id}?du={day}"


def creneau_links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*/creneau\?debut=[^"]*)"', page)]


def offered(page: str) -> list[datetime]:
    """The starts of the créneaux a page links to."""
    return [
        datetime.fromisoformat(parse_qs(urlsplit(link).query)["debut"][0])
        for link in creneau_links(page)
    ]


def creneau_url(cabinet: dict[str, Any], moment: datetime) -> str:
    base = f"/rendez-vous/motif/{cabinet['motif'].id}/lieu/{cabinet['site'].id}/creneau"
    return str(httpx.URL(base, params={"debut": moment.isoformat()}))


async def book(browser: Browser, cabinet: dict[str, Any], moment: datetime) -> str:
    """Books through the form; returns the confirmation page's URL (path and query)."""
    response = await browser.post_form(creneau_url(cabinet, moment), PERSONNE)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def own_address(browser: Browser) -> None:
    """Misses count per client address: a test that misses on purpose uses its own.

    uvicorn takes X-Forwarded-For from 127.0.0.1, so the server sees this address.
    """
    browser.http.headers["X-Forwarded-For"] = f"10.{next(_addresses)}.{uuid.uuid4().int % 250}.1"


def code_and_key(location: str) -> tuple[str, str]:
    parts = urlsplit(location)
    return parts.path.rsplit("/", 1)[-1], parse_qs(parts.query)["cle"][0]


async def test_a_citizen_books_through_the_pages_without_javascript(
    browser: Browser, cabinet: dict[str, Any]
) -> None:
    http = browser.http
    needs = await http.get("/rendez-vous")
    assert needs.status_code == 200 and f'href="/rendez-vous/{cabinet["code"]}"' in needs.text
    motifs = await http.get(f"/rendez-vous/{cabinet['code']}")
    assert f'href="/rendez-vous/motif/{cabinet["motif"].id}"' in motifs.text

    places = await http.get(f"/rendez-vous/motif/{cabinet['motif'].id}", params={"lieu": "31000"})
    assert places.status_code == 200
    assert cabinet["site"].nom in places.text and "Prochain créneau :" in places.text
    assert f"/lieu/{cabinet['site'].id}?du=" in places.text
    by_availability = await http.get(
        f"/rendez-vous/motif/{cabinet['motif'].id}",
        params={"commune": "31555", "tri": "disponibilite"},
    )
    assert 'aria-current="true">première disponibilité' in by_availability.text

    monday = monday_in_two_weeks()
    week = await http.get(week_url(cabinet, monday))
    assert week.status_code == 200 and "<h3" in week.text and "Semaine suivante" in week.text
    first = creneau_links(week.text)[0]
    assert offered(week.text)[:2] == [at(monday, "09:00"), at(monday, "09:30")]

    form = await http.get(first)
    assert form.status_code == 200 and 'name="_csrf_token"' in form.text
    assert (
        'autocomplete="tel"' in form.text and french_day(monday) + " à 09:00" in form.text.lower()
    )

    location = (await browser.post_form(first, PERSONNE)).headers["location"]
    code, key = code_and_key(location)
    assert key == acces_usager.cle(code)
    confirmation = await http.get(location)
    assert confirmation.status_code == 200
    assert "Rendez-vous confirmé" in confirmation.text
    assert f'<p class="code-rdv">{code}</p>' in confirmation.text
    assert "<svg" in confirmation.text and 'role="img"' in confirmation.text
    assert french_day(monday) + " à 09:00" in confirmation.text.lower()
    assert "Apportez le carnet de santé." in confirmation.text
    assert f"/rendez-vous/{code}/annulation?cle={key}" in confirmation.text
    assert confirmation.headers["cache-control"] == "no-store"
    rdv = await Rdv.objects().where(Rdv.code == code).first()
    assert rdv is not None and rdv.debut == at(monday, "09:00")
    assert rdv.canal_creation == "en_ligne"


async def test_the_ics_has_a_stable_uid_and_the_local_time_of_the_territoire(
    browser: Browser, cabinet: dict[str, Any]
) -> None:
    monday = monday_in_two_weeks()
    code, key = code_and_key(await book(browser, cabinet, at(monday, "10:30")))
    url = f"/rendez-vous/{code}/rdv.ics"
    response = await browser.http.get(url, params={"cle": key})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert f'filename="rendez-vous-{code}.ics"' in response.headers["content-disposition"]
    calendar = icalendar.Calendar.from_ical(response.content)
    event = next(iter(calendar.walk("VEVENT")))
    rdv = await Rdv.objects().where(Rdv.code == code).first()
    assert rdv is not None
    host = urlsplit(get_settings().public_url).hostname
    assert str(event["UID"]) == f"rdv-{rdv.id}@{host}"
    assert str(calendar["METHOD"]) == "REQUEST"
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event.decoded("DTSTART").replace(tzinfo=None) == datetime.combine(
        monday, datetime.strptime("10:30", "%H:%M").time()
    )
    again = await browser.http.get(url, params={"cle": key})
    assert again.content == response.content, "the same rdv gives the same file"


async def test_a_wrong_key_is_a_404_like_an_unknown_code(
    browser: Browser, cabinet: dict[str, Any]
) -> None:
    own_address(browser)
    code, key = code_and_key(await book(browser, cabinet, at(monday_in_two_weeks(), "11:00")))
    wrong = await browser.http.get(f"/rendez-vous/{code}", params={"cle": "a" * 16})
    unknown = await browser.http.get("/rendez-vous/ZZZZZZZZ", params={"cle": key})
    ics = await browser.http.get(f"/rendez-vous/{code}/rdv.ics", params={"cle": "a" * 16})
    assert wrong.status_code == unknown.status_code == ics.status_code == 404
    message = html.escape(acces_usager.INTROUVABLE)
    assert message in wrong.text and message in unknown.text
    assert "Martin" not in wrong.text and "Camille" not in ics.text


async def test_the_retrouver_form_finds_the_rdv_with_the_letters_and_refuses_others(
    browser: Browser, cabinet: dict[str, Any]
) -> None:
    own_address(browser)
    code, key = code_and_key(await book(browser, cabinet, at(monday_in_two_weeks(), "09:30")))
    form = await browser.http.get("/rendez-vous/retrouver")
    assert form.status_code == 200 and 'name="lettres"' in form.text
    found = await browser.post_form(
        "/rendez-vous/retrouver", {"code": code.lower(), "lettres": "ma"}
    )
    assert found.status_code == 303
    assert found.headers["location"] == f"/rendez-vous/{code}?cle={key}"
    refused = await browser.post_form("/rendez-vous/retrouver", {"code": code, "lettres": "DU"})
    assert refused.status_code == 404 and "location" not in refused.headers
    assert html.escape(acces_usager.INTROUVABLE) in refused.text and 'role="alert"' in refused.text
    empty = await browser.post_form("/rendez-vous/retrouver", {"code": "", "lettres": ""})
    assert empty.status_code == 422 and 'id="lettres-erreur"' in empty.text


async def test_after_cancelling_the_creneau_is_free_again_in_the_week_view(
    browser: Browser, cabinet: dict[str, Any]
) -> None:
    monday = monday_in_two_weeks()
    nine = at(monday, "09:00")
    code, key = code_and_key(await book(browser, cabinet, nine))
    assert nine not in offered((await browser.http.get(week_url(cabinet, monday))).text)

    question = await browser.http.get(f"/rendez-vous/{code}/annulation", params={"cle": key})
    assert "Voulez-vous vraiment annuler" in question.text and 'name="cle"' in question.text
    assert await Rdv.count().where(Rdv.code == code, Rdv.statut == "a_venir") == 1, (
        "a GET changes nothing"
    )
    done = await browser.post_form(f"/rendez-vous/{code}/annulation", {"cle": key})
    assert done.status_code == 303
    page = await browser.http.get(done.headers["location"])
    assert "Rendez-vous annulé" in page.text and "Annuler le rendez-vous" not in page.text
    assert await Rdv.count().where(Rdv.code == code, Rdv.statut == "excuse") == 1
    assert nine in offered((await browser.http.get(week_url(cabinet, monday))).text)

    cancel = await browser.http.get(f"/rendez-vous/{code}/rdv.ics", params={"cle": key})
    calendar = icalendar.Calendar.from_ical(cancel.content)
    event = next(iter(calendar.walk("VEVENT")))
    assert str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert event.decoded("SEQUENCE") == 1


async def test_a_cancellation_needs_the_key_in_the_form(
    browser: Browser, cabinet: dict[str, Any]
) -> None:
    own_address(browser)
    code, _ = code_and_key(await book(browser, cabinet, at(monday_in_two_weeks(), "11:30")))
    refused = await browser.post_form(f"/rendez-vous/{code}/annulation", {"cle": "b" * 16})
    assert refused.status_code == 404
    assert await Rdv.count().where(Rdv.code == code, Rdv.statut == "a_venir") == 1


async def test_the_citizen_moves_the_rdv_to_another_creneau(
    browser: Browser, cabinet: dict[str, Any]
) -> None:
    monday = monday_in_two_weeks()
    code, key = code_and_key(await book(browser, cabinet, at(monday, "09:00")))
    tuesday = monday + timedelta(days=1)
    week = await browser.http.get(
        f"/rendez-vous/{code}/deplacer", params={"cle": key, "du": monday.isoformat()}
    )
    assert week.status_code == 200
    assert f'value="{at(tuesday, "10:00").isoformat()}"' in week.text

    moved = await browser.post_form(
        f"/rendez-vous/{code}/deplacer", {"cle": key, "debut": at(tuesday, "10:00").isoformat()}
    )
    assert moved.status_code == 303 and "fait=deplace" in moved.headers["location"]
    page = await browser.http.get(moved.headers["location"])
    assert "a été déplacé" in page.text and "à 10:00" in page.text
    rdv = await Rdv.objects().where(Rdv.code == code).first()
    assert rdv is not None and rdv.debut == at(tuesday, "10:00") and rdv.sequence == 1
    free = offered((await browser.http.get(week_url(cabinet, monday))).text)
    assert at(monday, "09:00") in free and at(tuesday, "10:00") not in free


async def test_two_people_taking_one_creneau_get_one_rdv_and_a_409_with_the_next_ones(
    new_browser: Any, cabinet: dict[str, Any]
) -> None:
    first, second = new_browser(), new_browser()
    moment = at(monday_in_two_weeks(), "10:00")
    url = creneau_url(cabinet, moment)
    assert (await first.http.get(url)).status_code == 200
    assert (await second.http.get(url)).status_code == 200
    assert (await first.post_form(url, PERSONNE)).status_code == 303
    taken = await second.post_form(url, {**PERSONNE, "prenom": "Sacha", "nom": "Durand"})
    assert taken.status_code == 409
    assert "vient d'être pris" in taken.text
    assert offered(taken.text)[0] == moment + timedelta(minutes=30)
    assert await Rdv.count().where(Rdv.motif == cabinet["motif"].id, Rdv.debut == moment) == 1
    # A stale link to a taken créneau says so before the person types anything.
    stale = await second.http.get(url)
    assert stale.status_code == 409 and offered(stale.text)


async def test_a_landline_gets_the_french_error_next_to_the_field_and_creates_nothing(
    browser: Browser, cabinet: dict[str, Any]
) -> None:
    url = creneau_url(cabinet, at(monday_in_two_weeks(), "09:00"))
    response = await browser.post_form(url, {**PERSONNE, "telephone": "05 61 23 45 67"})
    assert response.status_code == 422
    message = html.escape("Donnez un numéro de portable : un fixe ne reçoit pas les SMS.")
    assert f'<p class="erreur" id="telephone-erreur">{message}</p>' in response.text
    field = re.search(r'<input id="telephone"[^>]*>', response.text)
    assert field is not None and 'aria-invalid="true"' in field.group(0)
    assert "telephone-erreur" in field.group(0) and 'value="05 61 23 45 67"' in field.group(0)
    assert 'role="alert"' in response.text and 'href="#telephone"' in response.text
    assert await Rdv.count().where(Rdv.motif == cabinet["motif"].id) == 0


async def test_the_booking_form_refuses_a_post_without_its_csrf_token(
    browser: Browser, cabinet: dict[str, Any]
) -> None:
    url = creneau_url(cabinet, at(monday_in_two_weeks(), "09:00"))
    response = await browser.http.post(url, data=PERSONNE)
    assert response.status_code == 403
    assert await Rdv.count().where(Rdv.motif == cabinet["motif"].id) == 0


async def test_a_time_off_the_grid_is_refused_with_the_reason_and_no_form(
    browser: Browser, cabinet: dict[str, Any]
) -> None:
    url = creneau_url(cabinet, at(monday_in_two_weeks(), "10:10"))
    page = await browser.http.get(url)
    assert page.status_code == 422
    assert "Ce n'est pas un créneau proposé." in html.unescape(page.text)
    assert 'name="telephone"' not in page.text
    posted = await browser.post_form(url, PERSONNE)
    assert posted.status_code == 422
    assert await Rdv.count().where(Rdv.motif == cabinet["motif"].id) == 0


async def test_moving_onto_a_creneau_just_taken_offers_the_next_ones_and_keeps_the_rdv(
    new_browser: Any, cabinet: dict[str, Any]
) -> None:
    mine, other = new_browser(), new_browser()
    monday = monday_in_two_weeks()
    code, key = code_and_key(await book(mine, cabinet, at(monday, "09:00")))
    await book(other, cabinet, at(monday, "11:00"))
    taken = await mine.post_form(
        f"/rendez-vous/{code}/deplacer", {"cle": key, "debut": at(monday, "11:00").isoformat()}
    )
    assert taken.status_code == 409 and "vient d'être pris" in taken.text
    assert f'value="{at(monday, "11:30").isoformat()}"' in taken.text
    rdv = await Rdv.objects().where(Rdv.code == code).first()
    assert rdv is not None and rdv.debut == at(monday, "09:00") and rdv.sequence == 0


async def test_an_rdv_code_typed_without_its_link_leads_to_the_retrouver_form(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/rendez-vous/K7MQ2XPA")
    assert response.status_code in {302, 303, 307}
    assert response.headers["location"] == "/rendez-vous/retrouver?code=K7MQ2XPA"
    form = await client.get(response.headers["location"])
    assert 'value="K7MQ2XPA"' in form.text
    unknown = await client.get("/rendez-vous/service-inconnu")
    assert unknown.status_code == 404 and "Retrouver mon rendez-vous" in unknown.text


async def test_times_are_shown_in_the_zone_of_the_territoire(browser: Browser) -> None:
    reunion = ZoneInfo("Indian/Reunion")
    territoire = await factories.territoire(code="974", fuseau_horaire="Indian/Reunion")
    code = factories.unique("pmi").replace(" ", "").lower()
    service = await factories.service(territoire, code=code, nom="PMI de La Réunion")
    site = await factories.site(territoire, services=[service], nom=factories.unique("PMI"))
    agent = await factories.agent(territoire, services=[service], sites=[site])
    motif = await factories.motif(service, delai_min_minutes=0)
    await factories.plage(agent, site, [motif], heure_debut="09:00", heure_fin="10:00")
    cabinet = {"motif": motif, "site": site}
    monday = monday_in_two_weeks()
    nine = datetime(monday.year, monday.month, monday.day, 9, 0, tzinfo=reunion)

    week = await browser.http.get(week_url(cabinet, monday))
    assert offered(week.text)[0] == nine and offered(week.text)[0].utcoffset() == timedelta(hours=4)
    assert ">09:00<" in week.text
    location = await book(browser, cabinet, nine)
    confirmation = await browser.http.get(location)
    assert french_day(monday) + " à 09:00" in confirmation.text.lower()
    code_rdv, key = code_and_key(location)
    calendar = await browser.http.get(f"/rendez-vous/{code_rdv}/rdv.ics", params={"cle": key})
    event = next(iter(icalendar.Calendar.from_ical(calendar.content).walk("VEVENT")))
    assert event["DTSTART"].params["TZID"] == "Indian/Reunion"
    assert event.decoded("DTSTART").hour == 9


async def test_ten_wrong_codes_from_one_address_are_stopped_with_a_429(browser: Browser) -> None:
    own_address(browser)
    for i in range(10):
        miss = await browser.post_form(
            "/rendez-vous/retrouver", {"code": f"ZZZZZZ{i:02d}", "lettres": "MA"}
        )
        assert miss.status_code == 404
    stopped = await browser.post_form(
        "/rendez-vous/retrouver", {"code": "ZZZZZZZZ", "lettres": "MA"}
    )
    assert stopped.status_code == 429 and stopped.headers["retry-after"] == "900"
    assert "Trop d'essais" in html.unescape(stopped.text) and 'role="alert"' in stopped.text
    del browser.http.headers["X-Forwarded-For"]
    elsewhere = await browser.post_form(
        "/rendez-vous/retrouver", {"code": "ZZZZZZZZ", "lettres": "MA"}
    )
    assert elsewhere.status_code == 404, "another address is not stopped"

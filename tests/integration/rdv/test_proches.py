"""Booking for a relative (proche): the usager who books is the contact, the relative comes,
and the agent sees both; through the API and the form without JavaScript."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from notifications.tables import Message
from rdv.tables import Rdv, RdvParticipant, Usager
from tests import factories
from tests.integration.conftest import Browser

CAMILLE = {"prenom": "Camille", "nom": "Martin", "telephone": "06 12 34 56 78"}


@pytest.fixture
async def cabinet() -> dict[str, Any]:
    territoire = await factories.territoire()
    service = await factories.service(territoire)
    site = await factories.site(territoire, services=[service])
    agent = await factories.agent(territoire, services=[service], sites=[site])
    motif = await factories.motif(service)
    await factories.plage(agent, site, [motif], heure_debut="09:00", heure_fin="12:00")
    return {"territoire": territoire, "site": site, "agent": agent, "motif": motif}


def booking(cabinet: dict[str, Any], hhmm: str, proche: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "motif_id": cabinet["motif"].id,
        "site_id": cabinet["site"].id,
        "debut": factories.monday_at(hhmm).isoformat(),
        "usager": CAMILLE,
        "proche": proche,
    }


async def usagers(cabinet: dict[str, Any]) -> list[dict[str, Any]]:
    return await Usager.select(
        Usager.id, Usager.prenom, Usager.nom, Usager.telephone, Usager.responsable,
        Usager.date_naissance,
    ).where(Usager.territoire == cabinet["territoire"].id).order_by(Usager.id)  # fmt: skip


async def test_a_booking_for_a_relative_makes_them_the_participant_and_the_usager_their_contact(
    client: httpx.AsyncClient, cabinet: dict[str, Any]
) -> None:
    response = await client.post(
        "/api/rdv",
        json=booking(cabinet, "09:00", {"prenom": "Léa", "nom": "Martin", "date_naissance": None}),
    )
    assert response.status_code == 201, response.text
    assert response.json()["pour"] == "Léa Martin"
    camille, lea = await usagers(cabinet)
    assert (camille["prenom"], camille["telephone"], camille["responsable"]) == (
        "Camille",
        "+33612345678",
        None,
    )
    assert (lea["prenom"], lea["telephone"], lea["responsable"]) == ("Léa", "", camille["id"])
    place = (
        await RdvParticipant.objects().where(RdvParticipant.code == response.json()["code"]).first()
    )
    assert place is not None and place.usager == lea["id"]

    # The same relative again (whatever the case), now with a birth date: the same row.
    again = await client.post(
        "/api/rdv",
        json=booking(
            cabinet, "10:00", {"prenom": "LÉA", "nom": "martin", "date_naissance": "2024-05-14"}
        ),
    )
    assert again.status_code == 201, again.text
    rows = await usagers(cabinet)
    assert len(rows) == 2 and rows[1]["date_naissance"] == date(2024, 5, 14)
    other_child = await client.post(
        "/api/rdv", json=booking(cabinet, "10:30", {"prenom": "Noé", "nom": "Martin"})
    )
    assert other_child.status_code == 201
    assert [(u["prenom"], u["responsable"]) for u in await usagers(cabinet)] == [
        ("Camille", None),
        ("Léa", camille["id"]),
        ("Noé", camille["id"]),
    ]
    themselves = await client.post("/api/rdv", json=booking(cabinet, "11:00", None))
    assert themselves.json()["pour"] == "Camille Martin" and len(await usagers(cabinet)) == 3


@pytest.mark.parametrize(
    ("proche", "fields"),
    [
        ({"prenom": " ", "nom": ""}, {"proche_prenom", "proche_nom"}),
        (
            {
                "prenom": "Léa",
                "nom": "Martin",
                "date_naissance": str(date.today() + timedelta(days=3)),
            },
            {"proche_date_naissance"},
        ),
        (
            {"prenom": "Léa", "nom": "Martin", "date_naissance": "1890-01-01"},
            {"proche_date_naissance"},
        ),
    ],
)
async def test_a_bad_relative_is_refused_in_french_with_the_fields_named_and_nothing_is_booked(
    client: httpx.AsyncClient, cabinet: dict[str, Any], proche: dict[str, Any], fields: set[str]
) -> None:
    response = await client.post("/api/rdv", json=booking(cabinet, "09:30", proche))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "donnees_invalides" and set(body["fields"]) == fields
    assert all(" " in message for message in body["fields"].values())  # sentences, in French
    assert await Rdv.count().where(Rdv.agent == cabinet["agent"].id) == 0
    assert await usagers(cabinet) == []


async def test_an_unreadable_birth_date_in_the_api_is_a_422_on_that_field(
    client: httpx.AsyncClient, cabinet: dict[str, Any]
) -> None:
    response = await client.post(
        "/api/rdv",
        json=booking(
            cabinet, "09:30", {"prenom": "Léa", "nom": "Martin", "date_naissance": "14/05"}
        ),
    )
    assert response.status_code == 422
    assert "date_naissance" in str(response.json()["fields"])


def form_url(cabinet: dict[str, Any], hhmm: str) -> str:
    base = f"/rendez-vous/motif/{cabinet['motif'].id}/lieu/{cabinet['site'].id}/creneau"
    return str(httpx.URL(base, params={"debut": factories.monday_at(hhmm).isoformat()}))


async def test_the_form_books_for_a_relative_who_is_found_again_with_either_family_name(
    new_browser: Any, cabinet: dict[str, Any]
) -> None:
    citizen: Browser = new_browser()
    form = await citizen.http.get(form_url(cabinet, "09:00"))
    assert "<legend>Pour qui est ce rendez-vous ?</legend>" in html.unescape(form.text)
    assert '<label for="proche_prenom">Prénom du proche</label>' in form.text
    posted = await citizen.post_form(
        form_url(cabinet, "09:00"),
        {
            **CAMILLE,
            "pour": "proche",
            "proche_prenom": "Léa",
            "proche_nom": "Dupont",
            "proche_date_naissance": "14/05/2024",
        },
    )
    assert posted.status_code == 303, posted.text
    page = html.unescape((await citizen.http.get(posted.headers["location"])).text)
    assert "Léa Dupont (réservé par Camille Martin)" in page
    assert [u["date_naissance"] for u in await usagers(cabinet)] == [None, date(2024, 5, 14)]

    # Found again with the letters of either family name: who comes, or who booked.
    parts = urlsplit(posted.headers["location"])
    code = parts.path.rsplit("/", 1)[-1]
    citizen.http.headers["X-Forwarded-For"] = "10.202.3.1"
    for letters in ("DU", "ma"):
        found = await citizen.post_form(
            "/rendez-vous/retrouver", {"code": code, "lettres": letters}
        )
        assert found.status_code == 303
        assert parse_qs(urlsplit(found.headers["location"]).query)["cle"]
    wrong = await citizen.post_form("/rendez-vous/retrouver", {"code": code, "lettres": "LE"})
    assert wrong.status_code == 404


async def test_the_form_for_a_relative_says_every_error_next_to_its_field_and_books_nothing(
    browser: Browser, cabinet: dict[str, Any]
) -> None:
    response = await browser.post_form(
        form_url(cabinet, "09:00"),
        {
            **CAMILLE,
            "telephone": "05 61 00 00 00",
            "pour": "proche",
            "proche_prenom": "",
            "proche_nom": "",
            "proche_date_naissance": "31/02/2020",
        },
    )
    assert response.status_code == 422
    text = html.unescape(response.text)
    for field, message in (
        ("proche_prenom", "Le prénom du proche est obligatoire."),
        ("proche_nom", "Le nom du proche est obligatoire."),
        ("proche_date_naissance", "Date invalide : écrivez-la par exemple 14/05/2024."),
        ("telephone", "Donnez un numéro de portable : un fixe ne reçoit pas les SMS."),
    ):
        assert f'<p class="erreur" id="{field}-erreur">{message}</p>' in text, field
        tag = re.search(rf'<input id="{field}"[^>]*>', text)
        assert tag is not None and 'aria-invalid="true"' in tag.group(0)
        assert f'href="#{field}"' in text
    assert re.search(r'<input type="radio" id="pour-proche"[^>]*checked', text)
    assert await Rdv.count().where(Rdv.agent == cabinet["agent"].id) == 0


async def test_for_oneself_the_relatives_fields_are_ignored(
    browser: Browser, cabinet: dict[str, Any]
) -> None:
    posted = await browser.post_form(
        form_url(cabinet, "11:30"),
        {**CAMILLE, "pour": "moi", "proche_prenom": "Léa", "proche_nom": ""},
    )
    assert posted.status_code == 303
    assert [u["prenom"] for u in await usagers(cabinet)] == ["Camille"]


async def test_the_agenda_shows_a_relative_with_their_responsable_and_the_responsables_phone(
    client: httpx.AsyncClient, new_browser: Any, cabinet: dict[str, Any]
) -> None:
    booked = await client.post(
        "/api/rdv", json=booking(cabinet, "11:00", {"prenom": "Léa", "nom": "Martin"})
    )
    assert booked.status_code == 201, booked.text
    agent: Browser = new_browser()
    await agent.sign_in(cabinet["agent"].email)
    day = factories.monday_at("11:00").date().isoformat()
    agenda = html.unescape((await agent.http.get("/agenda", params={"jour": day})).text)
    assert "Léa Martin (proche de Camille Martin)" in agenda
    assert 'href="tel:+33612345678">06 12 34 56 78</a>' in agenda


async def test_the_messages_about_a_relatives_rdv_go_to_the_person_who_booked_it(
    client: httpx.AsyncClient, cabinet: dict[str, Any]
) -> None:
    """Léa has no phone of her own: Camille, who booked for her, gets the SMS and the
    e-mail, which name Léa's rdv."""
    response = await client.post(
        "/api/rdv",
        json={
            **booking(cabinet, "09:00", {"prenom": "Léa", "nom": "Martin"}),
            "usager": {**CAMILLE, "email": "camille@example.org"},
        },
    )
    assert response.status_code == 201, response.text
    place = (
        await RdvParticipant.select(RdvParticipant.rdv)
        .where(RdvParticipant.code == response.json()["code"])
        .first()
    )
    assert place is not None
    messages = await Message.select(
        Message.canal, Message.genre, Message.destinataire, Message.texte, Message.ics
    ).where(Message.rdv == place["rdv"])
    par_canal = {(m["canal"], m["genre"]) for m in messages}
    assert ("sms", "confirmation") in par_canal and ("email", "confirmation") in par_canal
    assert ("sms", "rappel") in par_canal
    for message in messages:
        attendu = "+33612345678" if message["canal"] == "sms" else "camille@example.org"
        assert message["destinataire"] == attendu
        assert response.json()["code"] in message["texte"] or message["genre"] == "rappel"
    [email] = [m for m in messages if m["canal"] == "email"]
    assert "Léa Martin" in email["ics"]

"""Brevo: how its answers become results or errors, and how its webhooks are read."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from notifications.fournisseurs.base import (
    ErreurDefinitive,
    ErreurTemporaire,
    MessageSortant,
    Requete,
    Resultat,
    WebhookRefuse,
)
from notifications.fournisseurs.brevo import Brevo

CLE = "xkeysib-secrete"
SECRET = "secret-des-webhooks"
MESSAGE = MessageSortant("m-abc", "+33612345678", "Votre rdv du 3 mars a 9h.", "CD31")

Repondeur = Callable[[httpx.Request], httpx.Response]


def fournisseur(repondre: Repondeur) -> Brevo:
    client = httpx.AsyncClient(transport=httpx.MockTransport(repondre))
    return Brevo(cle=CLE, client=client, url_base="https://brevo.test", secret_webhook=SECRET)


def repond(code: int, corps: object = None, **entetes: str) -> Repondeur:
    def repondre(requete: httpx.Request) -> httpx.Response:
        if isinstance(corps, str):
            return httpx.Response(code, text=corps, headers=entetes)
        return httpx.Response(code, json=corps, headers=entetes)

    return repondre


async def test_an_accepted_sms_gives_the_message_id_and_is_tagged_with_our_reference() -> None:
    vues: list[httpx.Request] = []

    def repondre(requete: httpx.Request) -> httpx.Response:
        vues.append(requete)
        return httpx.Response(201, json={"messageId": 1511882900176220})

    assert await fournisseur(repondre).envoyer(MESSAGE) == Resultat("1511882900176220")
    (requete,) = vues
    assert (requete.method, requete.url.path) == ("POST", "/v3/transactionalSMS/send")
    assert requete.headers["api-key"] == CLE
    assert json.loads(requete.content) == {
        "sender": "CD31",
        "recipient": "33612345678",
        "content": MESSAGE.texte,
        "type": "transactional",
        "tag": "m-abc",
        "unicodeEnabled": False,
    }


async def test_a_text_outside_gsm7_is_sent_as_unicode() -> None:
    vues: list[httpx.Request] = []

    def repondre(requete: httpx.Request) -> httpx.Response:
        vues.append(requete)
        return httpx.Response(201, json={"messageId": 1})

    await fournisseur(repondre).envoyer(MessageSortant("m-1", "+33612345678", "Cœur ❤", "CD31"))
    assert json.loads(vues[0].content)["unicodeEnabled"] is True


async def test_the_segments_are_kept_when_brevo_gives_them() -> None:
    corps = {"reference": "ab1", "messageId": 15, "smsCount": 2, "usedCredits": 0.7}
    assert await fournisseur(repond(201, corps)).envoyer(MESSAGE) == Resultat("15", 2)


async def test_an_answer_without_message_id_is_uncertain() -> None:
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur(repond(201, {})).envoyer(MESSAGE)
    assert erreur.value.incertain


@pytest.mark.parametrize(
    ("code", "corps", "motif"),
    [
        (400, {"code": "invalid_parameter", "message": "Invalid phone number"}, "Invalid phone"),
        (401, {"code": "unauthorized", "message": "Key not found"}, "clé API refusée"),
        (403, {"code": "permission_denied", "message": "IP"}, "permission_denied"),
        (404, "Not found", "404"),
    ],
)
async def test_refused_requests_are_final(code: int, corps: object, motif: str) -> None:
    with pytest.raises(ErreurDefinitive, match=motif):
        await fournisseur(repond(code, corps)).envoyer(MESSAGE)


async def test_no_credit_402_is_temporary_and_waits_a_quarter_of_an_hour() -> None:
    corps = {"code": "not_enough_credits", "message": "Not enough credits"}
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur(repond(402, corps)).envoyer(MESSAGE)
    assert erreur.value.retry_after == 900


async def test_a_429_waits_retry_after_else_the_rate_limit_reset() -> None:
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur(
            repond(429, {}, **{"Retry-After": "4", "x-sib-ratelimit-reset": "30"})
        ).envoyer(MESSAGE)
    assert erreur.value.retry_after == 4
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur(repond(429, {}, **{"x-sib-ratelimit-reset": "30"})).envoyer(MESSAGE)
    assert erreur.value.retry_after == 30


async def test_server_errors_and_timeouts_are_temporary() -> None:
    def muet(requete: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=requete)

    for repondre in (repond(500, "boom"), repond(502, "gateway"), muet):
        with pytest.raises(ErreurTemporaire) as erreur:
            await fournisseur(repondre).envoyer(MESSAGE)
        assert erreur.value.incertain


async def test_retrouver_asks_for_the_events_of_our_tag_and_number() -> None:
    vues: list[httpx.Request] = []
    evenements = {
        "events": [
            {"phoneNumber": "33612345678", "messageId": "99", "event": "sent", "tag": "m-abc"}
        ]
    }

    def repondre(requete: httpx.Request) -> httpx.Response:
        vues.append(requete)
        return httpx.Response(200, json=evenements)

    assert await fournisseur(repondre).retrouver(MESSAGE) == Resultat("99")
    params = vues[0].url.params
    assert vues[0].url.path == "/v3/transactionalSMS/statistics/events"
    assert (params["phoneNumber"], params["tags"]) == ("33612345678", "m-abc")


async def test_retrouver_answers_none_without_an_event_of_our_tag() -> None:
    assert await fournisseur(repond(200, {})).retrouver(MESSAGE) is None
    autre = {"events": [{"messageId": "1", "event": "sent", "tag": "m-autre"}]}
    assert await fournisseur(repond(200, autre)).retrouver(MESSAGE) is None


async def test_the_key_and_the_full_number_never_reach_the_logs_or_the_repr(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    brevo = fournisseur(repond(201, {"messageId": 1}))
    await brevo.envoyer(MESSAGE)
    assert CLE not in repr(brevo) and CLE not in caplog.text
    assert "+33612345678" not in caplog.text and "33612345678" not in caplog.text


def evenement(**champs: object) -> dict[str, object]:
    return {
        "id": 26570,
        "to": "33612345678",
        "sms_count": 1,
        "messageId": 1511882900176220,
        "msg_status": "delivered",
        "date": "2026-03-03 09:00:12",
        "type": "transactional",
        "reference": "ab1cde2fgh",
        "tag": "m-abc",
        "ts_event": 1772524812,
        **champs,
    }


def requete(corps: object, *, headers: dict[str, str] | None = None, **query: str) -> Requete:
    donnees = corps if isinstance(corps, bytes) else json.dumps(corps).encode()
    return Requete("POST", "/webhooks/sms", query, headers or {}, donnees)


PORTEUR = {"authorization": f"Bearer {SECRET}"}


def test_a_delivered_event_is_read_with_our_tag_as_reference_not_brevos_reference() -> None:
    (accuse,) = fournisseur(repond(200)).lire_accuses(requete(evenement(), headers=PORTEUR))
    assert (accuse.statut, accuse.reference) == ("delivre", "m-abc")
    assert accuse.fournisseur_id == "1511882900176220"
    assert accuse.at == datetime.fromtimestamp(1772524812, UTC)


@pytest.mark.parametrize("statut", ["hard_bounce", "hardBounce", "soft_bounce", "rejected"])
def test_bounces_and_rejections_are_failures_with_their_reason(statut: str) -> None:
    corps = evenement(msg_status=statut, description="Invalid number")
    (accuse,) = fournisseur(repond(200)).lire_accuses(requete(corps, headers=PORTEUR))
    assert accuse.statut == "echec"
    assert "Invalid number" in accuse.erreur


def test_a_batch_of_events_is_read_whole_and_replies_are_not_reports() -> None:
    corps = [evenement(), evenement(msg_status="sent"), evenement(msg_status="replied")]
    accuses = fournisseur(repond(200)).lire_accuses(requete(corps, headers=PORTEUR))
    assert [a.statut for a in accuses] == ["delivre", "en_cours"]


def test_an_unknown_event_is_kept_as_unknown_and_ignored_downstream() -> None:
    (accuse,) = fournisseur(repond(200)).lire_accuses(
        requete(evenement(msg_status="clicked"), headers=PORTEUR)
    )
    assert accuse.statut == "inconnu"


def test_basic_auth_with_the_secret_as_password_or_a_token_in_the_url_is_accepted() -> None:
    paire = base64.b64encode(f"brevo:{SECRET}".encode()).decode()
    brevo = fournisseur(repond(200))
    assert brevo.lire_accuses(requete(evenement(), headers={"authorization": f"Basic {paire}"}))
    assert brevo.lire_accuses(requete(evenement(), jeton=SECRET))


@pytest.mark.parametrize(
    "entetes",
    [
        {},
        {"authorization": "Bearer faux"},
        {"authorization": "Basic !!!"},
        {"authorization": "Basic " + base64.b64encode(b"brevo:faux").decode()},
        {"authorization": SECRET},
    ],
)
def test_an_event_without_the_secret_is_refused(entetes: dict[str, str]) -> None:
    with pytest.raises(WebhookRefuse):
        fournisseur(repond(200)).lire_accuses(requete(evenement(), headers=entetes))


@pytest.mark.parametrize("corps", [b"{", b"[]", b"42", {"to": "33612345678"}])
def test_an_unreadable_event_is_refused(corps: object) -> None:
    with pytest.raises(WebhookRefuse):
        fournisseur(repond(200)).lire_accuses(requete(corps, headers=PORTEUR))


def test_a_reply_is_an_inbound_sms_and_an_unsubscribe_a_stop() -> None:
    corps = [
        evenement(msg_status="replied", reply="Je serai en retard"),
        evenement(msg_status="unsubscribe", to="262692123456"),
        evenement(),
    ]
    entrants = fournisseur(repond(200)).lire_entrants(requete(corps, headers=PORTEUR))
    assert [(e.telephone, e.texte) for e in entrants] == [
        ("+33612345678", "Je serai en retard"),
        ("+262692123456", "STOP"),
    ]


def test_an_inbound_event_without_a_number_is_refused() -> None:
    corps = {"msg_status": "replied", "reply": "Oui"}
    with pytest.raises(WebhookRefuse):
        fournisseur(repond(200)).lire_entrants(requete(corps, headers=PORTEUR))

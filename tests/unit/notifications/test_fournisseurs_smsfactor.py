"""SMS Factor: how its answers become results or errors, and how its webhooks are read."""

from __future__ import annotations

import hashlib
import hmac
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
from notifications.fournisseurs.smsfactor import SmsFactor

CLE = "jeton-secret-123"
SECRET = "secret-des-webhooks"
MESSAGE = MessageSortant("m-abc", "+33612345678", "Votre rdv du 3 mars à 9h.", "CD31")
ACCEPTE = {"status": 1, "message": "OK", "ticket": "14672468", "cost": 1, "sent": 1, "total": 1}

Repondeur = Callable[[httpx.Request], httpx.Response]


def fournisseur(repondre: Repondeur) -> SmsFactor:
    client = httpx.AsyncClient(transport=httpx.MockTransport(repondre))
    return SmsFactor(cle=CLE, client=client, url_base="https://sf.test", secret_webhook=SECRET)


def repond(code: int, corps: object = None, **entetes: str) -> Repondeur:
    def repondre(requete: httpx.Request) -> httpx.Response:
        if isinstance(corps, str):
            return httpx.Response(code, text=corps, headers=entetes)
        return httpx.Response(code, json=corps, headers=entetes)

    return repondre


async def test_an_accepted_sms_gives_the_ticket_and_sends_our_reference_as_gsmsmsid() -> None:
    vues: list[httpx.Request] = []

    def repondre(requete: httpx.Request) -> httpx.Response:
        vues.append(requete)
        return httpx.Response(200, json=ACCEPTE)

    resultat = await fournisseur(repondre).envoyer(MESSAGE)

    assert resultat == Resultat("14672468", None)
    (requete,) = vues
    assert (requete.method, requete.url.path) == ("POST", "/send")
    assert requete.headers["authorization"] == f"Bearer {CLE}"
    assert json.loads(requete.content) == {
        "sms": {
            "message": {"text": MESSAGE.texte, "sender": "CD31", "pushtype": "alert"},
            "recipients": {"gsm": [{"gsmsmsid": "m-abc", "value": "33612345678"}]},
        }
    }


async def test_a_campaign_in_moderation_is_accepted_not_retried() -> None:
    resultat = await fournisseur(repond(200, {"status": -8, "message": "Moderation"})).envoyer(
        MESSAGE
    )
    assert resultat.fournisseur_id is None


@pytest.mark.parametrize(
    ("compteur", "raison"),
    [("invalid", "numéro invalide"), ("blacklisted", "STOP"), ("npai", "NPAI")],
)
async def test_a_number_filtered_out_of_the_campaign_is_a_final_error(
    compteur: str, raison: str
) -> None:
    corps = {**ACCEPTE, "sent": 0, "cost": 0, compteur: 1}
    with pytest.raises(ErreurDefinitive, match=raison):
        await fournisseur(repond(200, corps)).envoyer(MESSAGE)


async def test_the_monthly_country_limit_is_retried_in_an_hour() -> None:
    corps = {**ACCEPTE, "sent": 0, "country_limit": 1}
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur(repond(200, corps)).envoyer(MESSAGE)
    assert erreur.value.retry_after == 3600


@pytest.mark.parametrize(
    ("statut", "classe"),
    [
        (-1, ErreurDefinitive),
        (-6, ErreurDefinitive),
        (-7, ErreurDefinitive),
        (-99, ErreurTemporaire),
    ],
)
async def test_negative_statuses_map_to_final_or_temporary_errors(
    statut: int, classe: type[Exception]
) -> None:
    with pytest.raises(classe):
        await fournisseur(repond(200, {"status": statut, "message": "Erreur"})).envoyer(MESSAGE)


async def test_no_credit_is_temporary_and_waits_a_quarter_of_an_hour() -> None:
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur(repond(200, {"status": -3, "message": "Not enough credits"})).envoyer(
            MESSAGE
        )
    assert erreur.value.retry_after == 900
    assert not erreur.value.incertain


@pytest.mark.parametrize("code", [401, 403])
async def test_a_refused_token_is_final_with_or_without_a_json_body(code: int) -> None:
    with pytest.raises(ErreurDefinitive, match="jeton refusé"):
        await fournisseur(repond(code, "Unauthorized")).envoyer(MESSAGE)
    with pytest.raises(ErreurDefinitive, match="jeton refusé"):
        await fournisseur(repond(code, {"status": -1, "message": "Auth"})).envoyer(MESSAGE)


async def test_a_429_honours_retry_after_in_seconds_or_as_a_date() -> None:
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur(repond(429, {}, **{"Retry-After": "7"})).envoyer(MESSAGE)
    assert erreur.value.retry_after == 7
    assert not erreur.value.incertain
    date = "Wed, 21 Oct 2099 07:28:00 GMT"
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur(repond(429, {}, **{"Retry-After": date})).envoyer(MESSAGE)
    assert erreur.value.retry_after is not None and erreur.value.retry_after > 86400


async def test_a_500_is_temporary_and_uncertain_a_503_temporary_and_certain() -> None:
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur(repond(500, "boom")).envoyer(MESSAGE)
    assert erreur.value.incertain
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur(repond(503, "maintenance")).envoyer(MESSAGE)
    assert not erreur.value.incertain


async def test_a_refused_connection_is_certain_a_read_timeout_uncertain() -> None:
    def refuse(requete: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=requete)

    def muet(requete: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=requete)

    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur(refuse).envoyer(MESSAGE)
    assert not erreur.value.incertain
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur(muet).envoyer(MESSAGE)
    assert erreur.value.incertain


async def test_an_unreadable_success_is_uncertain_an_unreadable_4xx_final() -> None:
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur(repond(200, "<html>ok</html>")).envoyer(MESSAGE)
    assert erreur.value.incertain
    with pytest.raises(ErreurDefinitive):
        await fournisseur(repond(400, "<html>bad</html>")).envoyer(MESSAGE)


async def test_retrouver_looks_through_the_numbers_messages_page_by_page() -> None:
    vues: list[httpx.Request] = []
    autres = [{"client_message_id": f"m-{i}", "campaign_id": i} for i in range(1000)]
    pages = [
        {"status": 1, "totalRecords": 1001, "messages": autres},
        {
            "status": 1,
            "totalRecords": 1001,
            "messages": [{"client_message_id": "m-abc", "campaign_id": 777, "message_id": 5}],
        },
    ]

    def repondre(requete: httpx.Request) -> httpx.Response:
        vues.append(requete)
        return httpx.Response(200, json=pages[len(vues) - 1])

    assert await fournisseur(repondre).retrouver(MESSAGE) == Resultat("777")
    premiere = vues[0].url.params
    assert vues[0].url.path == "/messages"
    assert premiere["destination"] == "33612345678"
    assert premiere["type"] == "messages-out"
    assert datetime.strptime(premiere["date_start"], "%Y-%m-%d %H:%M:%S")
    assert [v.url.params["start"] for v in vues] == ["0", "1000"]


async def test_retrouver_answers_none_when_the_reference_is_not_there() -> None:
    corps = {"status": 1, "totalRecords": 1, "messages": [{"client_message_id": "m-autre"}]}
    assert await fournisseur(repond(200, corps)).retrouver(MESSAGE) is None


async def test_retrouver_fails_temporarily_when_the_provider_is_down() -> None:
    with pytest.raises(ErreurTemporaire):
        await fournisseur(repond(502, "bad gateway")).retrouver(MESSAGE)


async def test_the_key_and_the_full_number_never_reach_the_logs_or_the_repr(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sf = fournisseur(repond(200, ACCEPTE))
    await sf.envoyer(MESSAGE)
    assert CLE not in repr(sf)
    assert "+33612345678" not in caplog.text and CLE not in caplog.text
    assert "+336…78" in caplog.text


def dlr(**champs: object) -> bytes:
    corps = {
        "date": "2026-03-03T09:00:12+01:00",
        "status": 3,
        "destination": "33612345678",
        "message_id": "m-abc",
        "campaign_id": "14672468",
        "country_code": "FR",
    }
    return json.dumps({**corps, **champs}).encode()


def requete(corps: bytes, *, headers: dict[str, str] | None = None, **query: str) -> Requete:
    return Requete("POST", "/webhooks/sms", query, headers or {}, corps)


SIGNE = {"x-smsfactor-signature": SECRET}


def test_a_signed_delivery_report_is_read_with_our_reference_and_utc_time() -> None:
    sf = fournisseur(repond(200, {}))
    (accuse,) = sf.lire_accuses(requete(dlr(), headers=SIGNE))
    assert accuse.statut == "delivre"
    assert (accuse.reference, accuse.fournisseur_id) == ("m-abc", "14672468")
    assert accuse.at == datetime(2026, 3, 3, 8, 0, 12, tzinfo=UTC)


def test_a_signature_as_an_hmac_of_the_body_or_a_token_in_the_url_is_accepted() -> None:
    sf = fournisseur(repond(200, {}))
    corps = dlr()
    digest = hmac.new(SECRET.encode(), corps, hashlib.sha256).hexdigest()
    assert sf.lire_accuses(requete(corps, headers={"x-smsfactor-signature": digest}))
    assert sf.lire_accuses(requete(corps, jeton=SECRET))


@pytest.mark.parametrize(
    "entetes", [{}, {"x-smsfactor-signature": "faux"}, {"x-smsfactor-signature": ""}]
)
def test_a_report_without_the_secret_is_refused(entetes: dict[str, str]) -> None:
    with pytest.raises(WebhookRefuse):
        fournisseur(repond(200, {})).lire_accuses(requete(dlr(), headers=entetes, jeton="faux"))


def test_without_a_configured_secret_every_webhook_is_refused() -> None:
    sf = SmsFactor(cle=CLE, client=httpx.AsyncClient(), secret_webhook="")
    with pytest.raises(WebhookRefuse):
        sf.lire_accuses(requete(dlr(), headers={"x-smsfactor-signature": ""}, jeton=""))


@pytest.mark.parametrize(
    ("statut", "etat", "erreur"),
    [
        (5, "echec", "INVALID_DESTINATION"),
        (12, "echec", "EXPIRED"),
        (2, "en_cours", ""),
        (42, "inconnu", ""),
    ],
)
def test_report_statuses_become_delivered_failed_or_ignored(
    statut: int, etat: str, erreur: str
) -> None:
    (accuse,) = fournisseur(repond(200, {})).lire_accuses(
        requete(dlr(status=statut), headers=SIGNE)
    )
    assert (accuse.statut, accuse.erreur) == (etat, erreur)


@pytest.mark.parametrize("corps", [b"not json", b"[]", b'"texte"', b'{"date": "x"}', b"[1, 2]"])
def test_an_unreadable_report_is_refused(corps: bytes) -> None:
    with pytest.raises(WebhookRefuse):
        fournisseur(repond(200, {})).lire_accuses(requete(corps, headers=SIGNE))


def entrant(**champs: object) -> bytes:
    corps = {
        "date": "2026-03-03T13:01:29",
        "message": "Stop SMS",
        "from": "33612345678",
        "account_id": "1234",
        "last_message_id": "m-abc",
    }
    return json.dumps({**corps, **champs}).encode()


def test_a_stop_is_read_with_the_number_in_e164_and_a_paris_time() -> None:
    (sms,) = fournisseur(repond(200, {})).lire_entrants(requete(entrant(), headers=SIGNE))
    assert (sms.telephone, sms.texte) == ("+33612345678", "Stop SMS")
    assert sms.at == datetime(2026, 3, 3, 12, 1, 29, tzinfo=UTC)


def test_an_overseas_number_keeps_its_own_country_code() -> None:
    (sms,) = fournisseur(repond(200, {})).lire_entrants(
        requete(entrant(**{"from": "262692123456"}), headers=SIGNE)
    )
    assert sms.telephone == "+262692123456"


def test_an_inbound_sms_from_an_unreadable_number_is_skipped_not_refused() -> None:
    assert (
        fournisseur(repond(200, {})).lire_entrants(
            requete(entrant(**{"from": "12"}), headers=SIGNE)
        )
        == []
    )


def test_an_inbound_sms_without_sender_or_text_is_refused() -> None:
    with pytest.raises(WebhookRefuse):
        fournisseur(repond(200, {})).lire_entrants(
            requete(entrant(**{"from": None}), headers=SIGNE)
        )
    with pytest.raises(WebhookRefuse):
        fournisseur(repond(200, {})).lire_entrants(requete(entrant(), headers={}))

"""Building providers from a configuration, and the "log" provider."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx
import pytest

from notifications.fournisseurs import registre
from notifications.fournisseurs.base import (
    ErreurTemporaire,
    MessageSortant,
    Requete,
    WebhookRefuse,
)
from notifications.fournisseurs.brevo import Brevo
from notifications.fournisseurs.journal import Journal
from notifications.fournisseurs.registre import Config, ConfigurationInvalide, Indisponible
from notifications.fournisseurs.smsfactor import SmsFactor
from notifications.fournisseurs.smtp import Smtp

CLE = "cle-tres-secrete-42"
ENV = {
    "RDV_SMS_SMSFACTOR_CD31": CLE,
    "RDV_SMS_WEBHOOK_CD31": "secret-webhook",
    "ENVIRONMENT": "production",
    "SMS_URLS_AUTORISEES": "http://127.0.0.1:9",
}
MESSAGE = MessageSortant("m-1", "+33612345678", "Votre rdv est confirmé.", "CD31", "Rdv")


@dataclass(frozen=True)
class Parametres:
    fournisseur_sms: str = "smsfactor"
    cle_sms_env: str = "RDV_SMS_SMSFACTOR_CD31"
    secret_webhook_env: str = "RDV_SMS_WEBHOOK_CD31"
    url_sms: str = ""
    fournisseur_email: str = "log"


def test_log_is_built_without_any_key() -> None:
    assert isinstance(registre.sms(Config("log"), environ={}), Journal)
    assert isinstance(registre.email(Config("log"), environ={}), Journal)


def test_smsfactor_and_brevo_read_their_key_from_the_named_variable() -> None:
    client = httpx.AsyncClient()
    config = Config("smsfactor", url="http://127.0.0.1:9", cle_env="RDV_SMS_SMSFACTOR_CD31")
    sf = registre.sms(config, client=client, environ=ENV)
    assert isinstance(sf, SmsFactor)
    assert "127.0.0.1:9" in repr(sf) and CLE not in repr(sf)
    brevo = registre.sms(
        Config("brevo", cle_env="RDV_SMS_SMSFACTOR_CD31"), client=client, environ=ENV
    )
    assert isinstance(brevo, Brevo) and "api.brevo.com" in repr(brevo)


@pytest.mark.parametrize(
    ("config", "motif"),
    [
        (Config("smsfactor", cle_env="RDV_SMS_ABSENTE"), "RDV_SMS_ABSENTE est vide"),
        (Config("brevo"), "aucune variable"),
        (Config("twilio", cle_env="RDV_SMS_SMSFACTOR_CD31"), "inconnu"),
    ],
)
def test_a_missing_key_or_an_unknown_name_is_an_error_that_names_no_secret(
    config: Config, motif: str
) -> None:
    with pytest.raises(ConfigurationInvalide, match=motif) as erreur:
        registre.sms(config, client=httpx.AsyncClient(), environ=ENV)
    assert CLE not in str(erreur.value)


def test_an_smtp_url_gives_host_port_user_and_tls_mode() -> None:
    relais = registre.smtp_depuis_url("smtp://rdv%40cd31.fr@relais.cd31.fr:2525?starttls=0")
    assert repr(relais) == "Smtp(hote='relais.cd31.fr', port=2525, starttls=False)"
    assert repr(registre.smtp_depuis_url("smtp://relais.fr")).endswith("port=587, starttls=True)")
    assert repr(registre.smtp_depuis_url("smtps://relais.fr")).endswith("port=465, starttls=False)")


@pytest.mark.parametrize("url", ["smtp://u:motdepasse@relais.fr", "http://relais.fr", "smtp://"])
def test_an_smtp_url_with_a_password_or_without_a_host_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationInvalide) as erreur:
        registre.smtp_depuis_url(url)
    assert "motdepasse" not in str(erreur.value)


async def test_pour_gives_the_territoires_providers() -> None:
    env = {**ENV, "SMTP_URL": "smtp://127.0.0.1:25?starttls=0"}
    assert isinstance(registre.pour(Parametres(), "sms", environ=env), SmsFactor)
    smtp = registre.pour(Parametres(fournisseur_email="smtp"), "email", environ=env)
    assert isinstance(smtp, Smtp)


async def test_pour_turns_a_bad_configuration_into_sends_that_wait() -> None:
    fournisseur = registre.pour(Parametres(cle_sms_env="RDV_SMS_OUBLIEE"), "sms", environ=ENV)
    assert isinstance(fournisseur, Indisponible) and fournisseur.nom == "smsfactor"
    with pytest.raises(ErreurTemporaire, match="RDV_SMS_OUBLIEE") as erreur:
        await fournisseur.envoyer(MESSAGE)
    assert erreur.value.retry_after == registre.ATTENTE_CONFIGURATION
    with pytest.raises(ErreurTemporaire):
        await fournisseur.retrouver(MESSAGE)
    with pytest.raises(WebhookRefuse):
        fournisseur.lire_accuses(Requete("POST", "/", {}, {}, b"{}"))


async def test_log_writes_one_masked_line_and_the_text_only_in_development(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    production = registre.sms(Config("log"), environ={"ENVIRONMENT": "production"})
    resultat = await production.envoyer(MESSAGE)
    assert resultat.fournisseur_id == "log-m-1"
    assert len(caplog.records) == 1
    assert "+336…78" in caplog.text and "+33612345678" not in caplog.text
    assert MESSAGE.texte not in caplog.text
    caplog.clear()
    await registre.sms(Config("log"), environ={}).envoyer(MESSAGE)
    assert MESSAGE.texte in caplog.text


async def test_log_never_finds_a_message_again_and_has_no_webhooks() -> None:
    journal = Journal()
    assert await journal.retrouver(MESSAGE) is None
    with pytest.raises(WebhookRefuse):
        journal.lire_accuses(Requete("POST", "/", {}, {}, b"{}"))
    with pytest.raises(WebhookRefuse):
        journal.lire_entrants(Requete("POST", "/", {}, {}, b"{}"))


@pytest.mark.parametrize(
    ("config", "motif"),
    [
        # An admin naming the platform's own secret, or another territoire's key.
        (Config("smsfactor", cle_env="SECRET_KEY"), "ne commence pas par RDV_SMS_"),
        (
            Config("smsfactor", cle_env="RDV_SMS_SMSFACTOR_CD31", secret_webhook_env="SECRET_KEY"),
            "ne commence pas par RDV_SMS_",
        ),
        # An address of their own to receive the key.
        (
            Config("smsfactor", cle_env="RDV_SMS_SMSFACTOR_CD31", url="https://pirate.example"),
            "non autorisée",
        ),
    ],
)
def test_only_the_operators_variables_and_addresses_are_used(config: Config, motif: str) -> None:
    env = {**ENV, "SECRET_KEY": "la-cle-des-sessions"}
    with pytest.raises(ConfigurationInvalide, match=motif) as erreur:
        registre.sms(config, client=httpx.AsyncClient(), environ=env)
    assert "la-cle-des-sessions" not in str(erreur.value)


async def test_providers_take_the_http_clients_in_turn_and_a_closed_one_is_replaced() -> None:
    registre.utiliser_client(None)
    await registre.fermer_clients()
    try:
        tour = [registre.client_http() for _ in range(registre.CLIENTS)]
        assert len({id(c) for c in tour}) == registre.CLIENTS
        assert registre.client_http() is tour[0]
        # Each keeps a few connections: httpcore's pool costs grow with their square.
        pool = tour[0]._transport._pool  # type: ignore[attr-defined]
        assert pool._max_keepalive_connections == registre.CONNEXIONS_PAR_CLIENT
        await tour[1].aclose()
        suivant = registre.client_http()
        assert suivant is not tour[1] and not suivant.is_closed
        assert registre.client_http() is tour[2]
    finally:
        await registre.fermer_clients()
    assert all(c.is_closed for c in tour if c is not tour[1])

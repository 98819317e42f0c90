"""SMS Factor and Brevo providers against the fake provider server, over real HTTP."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from notifications.fournisseurs import registre
from notifications.fournisseurs.base import (
    ErreurDefinitive,
    ErreurTemporaire,
    FournisseurSms,
    MessageSortant,
    Requete,
    WebhookRefuse,
)
from notifications.fournisseurs.registre import Config
from notifications.services.webhooks import est_stop
from tests.fakes import fixture_faux_fournisseur_sms  # noqa: F401
from tests.fakes.fournisseur_sms import (
    CLE_BREVO,
    CLE_SMSFACTOR,
    SECRET_WEBHOOK,
    FauxFournisseurSms,
    sous_processus,
)

ENV = {
    "RDV_SMS_CLE_SMSFACTOR": CLE_SMSFACTOR,
    "RDV_SMS_CLE_BREVO": CLE_BREVO,
    "RDV_SMS_SECRET": SECRET_WEBHOOK,
    "SMS_URLS_AUTORISEES": "http://127.0.0.1:",
}
TIMEOUT = 0.5


def sms(reference: str, telephone: str = "+33612345678") -> MessageSortant:
    return MessageSortant(reference, telephone, "Rdv confirme le 3 mars a 9h.", "CD31")


def construire(
    nom: str, url: str, client: httpx.AsyncClient, cle: str | None = None
) -> FournisseurSms:
    env = {**ENV, "RDV_SMS_AUTRE": "mauvaise-cle"}
    config = Config(
        nom,
        url=url,
        cle_env=cle or f"RDV_SMS_CLE_{nom.upper()}",
        secret_webhook_env="RDV_SMS_SECRET",
        timeout=TIMEOUT,
    )
    return registre.sms(config, client=client, environ=env)


@pytest.fixture(params=["smsfactor", "brevo"])
async def fournisseur(
    request: pytest.FixtureRequest, faux_fournisseur_sms: FauxFournisseurSms
) -> AsyncIterator[FournisseurSms]:
    async with httpx.AsyncClient() as client:
        yield construire(request.param, faux_fournisseur_sms.url, client)


async def test_an_accepted_sms_is_recorded_once_under_our_reference(
    fournisseur: FournisseurSms, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    resultat = await fournisseur.envoyer(sms("m-accepte"))
    (recu,) = faux_fournisseur_sms.par_reference("m-accepte")
    assert recu.fournisseur == fournisseur.nom
    assert (recu.destinataire, recu.expediteur) == ("33612345678", "CD31")
    assert resultat.fournisseur_id == recu.fournisseur_id
    assert faux_fournisseur_sms.doublons() == {}


async def test_a_500_is_temporary_and_the_next_try_is_accepted_once(
    fournisseur: FournisseurSms, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    faux_fournisseur_sms.echouer(1, code=500)
    with pytest.raises(ErreurTemporaire):
        await fournisseur.envoyer(sms("m-500"))
    await fournisseur.envoyer(sms("m-500"))
    assert len(faux_fournisseur_sms.par_reference("m-500")) == 1
    assert faux_fournisseur_sms.requetes == 2


async def test_a_429_carries_the_providers_retry_after(
    fournisseur: FournisseurSms, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    faux_fournisseur_sms.trop_de_requetes(1, retry_after=12)
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur.envoyer(sms("m-429"))
    assert erreur.value.retry_after == 12
    assert not erreur.value.incertain
    assert faux_fournisseur_sms.par_reference("m-429") == []


async def test_a_provider_that_hangs_is_an_uncertain_error_after_the_client_timeout(
    fournisseur: FournisseurSms, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    faux_fournisseur_sms.bloquer(1, duree=5)
    debut = time.monotonic()
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur.envoyer(sms("m-bloque"))
    assert time.monotonic() - debut < TIMEOUT + 1
    assert erreur.value.incertain


async def test_an_invalid_number_is_final_and_nothing_is_sent(
    fournisseur: FournisseurSms, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    with pytest.raises(ErreurDefinitive, match="(?i)invalid"):
        await fournisseur.envoyer(sms("m-invalide", "+3361234"))
    assert faux_fournisseur_sms.recus == []


async def test_after_a_lost_answer_retrouver_finds_the_message_instead_of_sending_it_again(
    fournisseur: FournisseurSms, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    faux_fournisseur_sms.perdre_reponses(1)
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur.envoyer(sms("m-perdu"))
    assert erreur.value.incertain
    trouve = await fournisseur.retrouver(sms("m-perdu"))
    (recu,) = faux_fournisseur_sms.par_reference("m-perdu")
    assert trouve is not None and trouve.fournisseur_id == recu.fournisseur_id
    assert faux_fournisseur_sms.doublons() == {}


async def test_after_a_timeout_past_acceptance_retrouver_finds_the_message(
    fournisseur: FournisseurSms, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    faux_fournisseur_sms.bloquer(1, duree=5, apres_reception=True)
    with pytest.raises(ErreurTemporaire):
        await fournisseur.envoyer(sms("m-lent"))
    assert await fournisseur.retrouver(sms("m-lent")) is not None


async def test_retrouver_answers_none_for_a_message_never_received(
    fournisseur: FournisseurSms, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    await fournisseur.envoyer(sms("m-autre"))
    assert await fournisseur.retrouver(sms("m-jamais")) is None
    assert await fournisseur.retrouver(sms("m-autre", "+33699999999")) is None


async def test_a_provider_down_refuses_connections_until_it_is_back(
    fournisseur: FournisseurSms, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    await fournisseur.envoyer(sms("m-avant"))  # a pooled connection that the outage must cut
    faux_fournisseur_sms.panne("refus")
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur.envoyer(sms("m-panne"))
    assert not erreur.value.incertain
    faux_fournisseur_sms.retablir()
    await fournisseur.envoyer(sms("m-panne"))
    assert len(faux_fournisseur_sms.par_reference("m-panne")) == 1


async def test_an_outage_answering_503_is_temporary_and_certain(
    fournisseur: FournisseurSms, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    faux_fournisseur_sms.panne("503", duree=0.3)
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur.envoyer(sms("m-503"))
    assert not erreur.value.incertain
    await asyncio.sleep(0.5)
    await fournisseur.envoyer(sms("m-503"))


async def test_a_50_ms_latency_is_within_the_timeout(
    fournisseur: FournisseurSms, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    faux_fournisseur_sms.latence(0.05)
    debut = time.monotonic()
    await fournisseur.envoyer(sms("m-latence"))
    assert time.monotonic() - debut >= 0.05


async def test_no_credit_waits_for_a_top_up(
    fournisseur: FournisseurSms, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    faux_fournisseur_sms.sans_credit()
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur.envoyer(sms("m-credit"))
    assert erreur.value.retry_after == 900


@pytest.mark.parametrize("nom", ["smsfactor", "brevo"])
async def test_a_wrong_key_is_final(nom: str, faux_fournisseur_sms: FauxFournisseurSms) -> None:
    async with httpx.AsyncClient() as client:
        fournisseur = construire(nom, faux_fournisseur_sms.url, client, cle="RDV_SMS_AUTRE")
        with pytest.raises(ErreurDefinitive):
            await fournisseur.envoyer(sms("m-cle"))


async def test_a_number_on_smsfactors_blacklist_is_final(
    faux_fournisseur_sms: FauxFournisseurSms,
) -> None:
    faux_fournisseur_sms.liste_noire("+33612345678")
    async with httpx.AsyncClient() as client:
        fournisseur = construire("smsfactor", faux_fournisseur_sms.url, client)
        with pytest.raises(ErreurDefinitive, match="STOP"):
            await fournisseur.envoyer(sms("m-noire"))


class Recepteur(ThreadingHTTPServer):
    """Our webhook endpoint, reduced to what a provider's parser is given."""

    def __init__(self) -> None:
        self.requetes: list[Requete] = []
        recepteur = self

        class Gestionnaire(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:  # noqa: N802
                parties = urlsplit(self.path)
                corps = self.rfile.read(int(self.headers.get("content-length") or 0))
                recepteur.requetes.append(
                    Requete(
                        "POST",
                        parties.path,
                        {k: v[-1] for k, v in parse_qs(parties.query).items()},
                        {k.lower(): v for k, v in self.headers.items()},
                        corps,
                    )
                )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        super().__init__(("127.0.0.1", 0), Gestionnaire)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/webhooks/sms"


@pytest.fixture
def recepteur() -> Iterator[Recepteur]:
    serveur = Recepteur()
    yield serveur
    serveur.shutdown()
    serveur.server_close()


async def test_delivery_reports_posted_by_the_fake_are_read_by_the_provider(
    fournisseur: FournisseurSms, faux_fournisseur_sms: FauxFournisseurSms, recepteur: Recepteur
) -> None:
    resultat = await fournisseur.envoyer(sms("m-dlr"))
    assert await faux_fournisseur_sms.aenvoyer_accuse(recepteur.url, "m-dlr") == 200
    (accuse,) = fournisseur.lire_accuses(recepteur.requetes[-1])
    assert (accuse.statut, accuse.reference) == ("delivre", "m-dlr")
    assert accuse.fournisseur_id == resultat.fournisseur_id

    await fournisseur.envoyer(sms("m-echec"))
    faux_fournisseur_sms.envoyer_accuse(recepteur.url, "m-echec", statut="echec")
    (accuse,) = fournisseur.lire_accuses(recepteur.requetes[-1])
    assert (accuse.statut, accuse.reference) == ("echec", "m-echec")


async def test_a_stop_posted_by_the_fake_is_read_as_a_stop_from_the_number(
    fournisseur: FournisseurSms, faux_fournisseur_sms: FauxFournisseurSms, recepteur: Recepteur
) -> None:
    await fournisseur.envoyer(sms("m-stop"))
    code = await faux_fournisseur_sms.aenvoyer_entrant(
        recepteur.url, "+33612345678", "STOP", fournisseur=fournisseur.nom
    )
    assert code == 200
    (entrant,) = fournisseur.lire_entrants(recepteur.requetes[-1])
    assert entrant.telephone == "+33612345678"
    assert est_stop(entrant.texte)


async def test_webhooks_with_another_secret_are_refused(
    fournisseur: FournisseurSms, faux_fournisseur_sms: FauxFournisseurSms, recepteur: Recepteur
) -> None:
    await fournisseur.envoyer(sms("m-faux"))
    faux_fournisseur_sms.envoyer_accuse(recepteur.url, "m-faux", secret="pas-le-bon")
    with pytest.raises(WebhookRefuse):
        fournisseur.lire_accuses(recepteur.requetes[-1])


async def test_the_fake_runs_in_another_process_programmed_over_http() -> None:
    with sous_processus() as url:
        async with httpx.AsyncClient() as client:
            await client.post(
                url + "/_fake/programmer", json={"echecs": {"nombre": 1, "code": 500}}
            )
            fournisseur = construire("brevo", url, client)
            with pytest.raises(ErreurTemporaire):
                await fournisseur.envoyer(sms("m-processus"))
            await fournisseur.envoyer(sms("m-processus"))
            etat = (await client.get(url + "/_fake/etat")).json()
    assert etat["requetes"] == 2
    assert [r["reference"] for r in etat["recus"]] == ["m-processus"]
    assert etat["doublons"] == {}

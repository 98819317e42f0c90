"""SMS Factor (api.smsfactor.com): send one SMS, find it again after a crash, read its webhooks.

What we rely on, from SMS Factor's documentation and its own SDKs:

- Sending: `POST /send` with a JSON campaign body
  `{"sms": {"message": {"text", "sender", "pushtype"}, "recipients": {"gsm": [{"gsmsmsid",
  "value"}]}}}`, headers `Authorization: Bearer <token>` and `Accept: application/json`.
  `gsmsmsid` is "an id of your choice to link it to its delivery report": our reference.
  Numbers are international without "+" ("33612345678"). `pushtype` "alert" is the
  transactional kind (no marketing hours, no STOP mention).
  https://dev.smsfactor.com/en/api/sms/send/send-single (same parameters and answer),
  https://hexdocs.pm/sms_factor/SMSFactor.SendSMS.html (the JSON body), and
  https://github.com/smsfactor/smsfactor-php-sdk (src/Campaign.php: POST /send).
- The answer: `{"status": 1, "message": "OK", "ticket": "14672468", "cost", "credits",
  "total", "sent", "blacklisted", "duplicated", "invalid", "npai", "not_allowed", "flood",
  "country_limit"}`: `ticket` is the campaign id (our `fournisseur_id`); the counters tell
  why a number was filtered out (then `sent` is 0). A `status` -8 "doesn't mean your SMS
  won't be sent. No need to retry" (moderation). No segment count is given (`cost` is in
  credits), so `segments` stays None.
- Errors: a negative `status` with `message` (and sometimes `details`): -1 authentication,
  -2 XML, -3 not enough credits, -4 date, -5 resource not found, -6 JSON, -7 data, -8
  moderation, -10 invalid token id, -99 unknown (smsfactor-php-sdk src/ApiRequestor.php,
  smsfactor-java-sdk ApiRequestor.java, github.com/Pharmony/sms_factor errors).
- Look-up: `GET /messages?date_start=&date_end=` (required, "Y-m-d H:i:s", Paris time)
  `&destination=&type=messages-out&start=&length=` (1000 at most) lists single messages with
  `client_message_id` (our gsmsmsid), `campaign_id`, `message_id`, `status`.
  https://dev.smsfactor.com/en/api/sms/messages/retrieve-messages. So `retrouver` asks for
  the number's messages of the last days and looks for our reference.
- Delivery reports (DLR webhook): a POST with a JSON body `{"date": ISO 8601, "status": 3,
  "destination": "33612345678", "message_id": <our gsmsmsid>, "campaign_id": <ticket>,
  "country_code": "FR"}`; statuses 0 NOT_SENT, 1 SENT, 2 NOT_DELIVERED (not yet), 3
  DELIVERED, 4 NOT_ALLOWED, 5 INVALID_DESTINATION, 6 INVALID_SENDER, 7 ROUTE_NOT_AVAILABLE,
  9 REJECTED, 11 NETWORK_ERROR, 12 EXPIRED.
  https://dev.smsfactor.com/it/api/sms/webhook/notifica-di-ricezione (the table is in English)
- Replies and STOP (MO and STOP webhooks): `{"date", "message", "from": "33612345678",
  "account_id", "last_message_id": <our gsmsmsid>}`. A STOP webhook fires only on SMS
  Factor's stop keywords; both are read the same way.
  https://dev.smsfactor.com/it/api/sms/webhook/stop, https://doc.smsup.ch/en/api/sms/webhook/replies
- Webhook authentication: a webhook is created (`POST /webhook`, types DLR, MO, STOP) with an
  optional `signature`, and SMS Factor then "sign[s] the webhook requests with that secret
  in the header X-SMSFactor-Signature". https://dev.smsfactor.com/en/api/sms/webhook/create-webhook
  The page does not say whether the header holds the secret itself or a digest; the
  integrations we read compare it to the secret as is. We accept, in constant time, the
  secret as is, or a hex HMAC-SHA256 of the raw body under it, or — when the webhook was
  registered without a signature — the secret in the URL: `...?jeton=<secret>`. The
  requests come from 51.159.7.123 and 51.159.21.54 (a proxy may filter on them).

Decisions: bad token (-1, HTTP 401/403) is final, as for any refused credentials. No credit
(-3) is temporary, retried after 15 minutes: a top-up fixes it, and a final error would drop
every message of the outage (they still expire with their rdv). An unknown error (-99) is
temporary; a filtered number (invalid, npai, blacklisted after a STOP, not allowed) is final.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from notifications.fournisseurs.base import (
    Accuse,
    ErreurDefinitive,
    ErreurFournisseur,
    ErreurTemporaire,
    MessageEntrant,
    MessageSortant,
    Requete,
    Resultat,
    WebhookRefuse,
    date_fournisseur,
    lire_retry_after,
    masquer,
    secret_valide,
    telephone_e164,
)

logger = logging.getLogger(__name__)

URL = "https://api.smsfactor.com"
PARIS = ZoneInfo("Europe/Paris")
# No credit: the time for someone to top the account up.
ATTENTE_CREDIT = 900.0
LONGUEUR_PAGE = 1000

STATUTS_DLR: dict[int, tuple[str, str]] = {
    0: ("en_cours", "NOT_SENT"),
    1: ("en_cours", "SENT"),
    2: ("en_cours", "NOT_DELIVERED"),
    3: ("delivre", "DELIVERED"),
    4: ("echec", "NOT_ALLOWED"),
    5: ("echec", "INVALID_DESTINATION"),
    6: ("echec", "INVALID_SENDER"),
    7: ("echec", "ROUTE_NOT_AVAILABLE"),
    9: ("echec", "REJECTED"),
    11: ("echec", "NETWORK_ERROR"),
    12: ("echec", "EXPIRED"),
}

# Why SMS Factor filtered a number out of a campaign (answer counters), all final.
FILTRES = {
    "invalid": "numéro invalide",
    "npai": "numéro n'habitant plus à l'adresse (NPAI)",
    "blacklisted": "numéro en liste noire (STOP)",
    "not_allowed": "pays non autorisé",
    "flood": "filtré par l'anti-flood (même SMS envoyé à l'instant)",
    "country_limit": "limite mensuelle du pays atteinte",
}


def numero(e164: str) -> str:
    """+33612345678 -> 33612345678, as SMS Factor writes numbers."""
    return e164.strip().removeprefix("+")


def erreur_statut(statut: int, texte: str) -> ErreurFournisseur:
    """The error for a negative `status` of an answer."""
    raison = f"SMS Factor : {texte or 'erreur'} (statut {statut})"
    if statut == -3:
        return ErreurTemporaire(raison + ", crédit épuisé", retry_after=ATTENTE_CREDIT)
    if statut == -99 or statut < -10:
        return ErreurTemporaire(raison)
    if statut in (-1, -10):
        return ErreurDefinitive(raison + ", jeton refusé")
    return ErreurDefinitive(raison)


def resultat_envoi(corps: dict[str, Any]) -> Resultat:
    """The Resultat of a `/send` answer whose status is 1 or -8, else the error."""
    statut = corps.get("status")
    ticket = corps.get("ticket")
    fournisseur_id = str(ticket) if ticket not in (None, "") else None
    if statut == -8:
        return Resultat(fournisseur_id)
    if not isinstance(statut, int) or isinstance(statut, bool):
        raise ErreurTemporaire("SMS Factor : réponse sans statut", incertain=True)
    if statut != 1:
        raise erreur_statut(statut, str(corps.get("message") or corps.get("details") or ""))
    if _entier(corps.get("sent"), 1) >= 1:
        return Resultat(fournisseur_id)
    if _entier(corps.get("country_limit"), 0) > 0:
        raise ErreurTemporaire("SMS Factor : " + FILTRES["country_limit"], retry_after=3600)
    raisons = [texte for cle, texte in FILTRES.items() if _entier(corps.get(cle), 0) > 0]
    raise ErreurDefinitive("SMS Factor n'a rien envoyé : " + (", ".join(raisons) or "filtré"))


def _entier(valeur: object, defaut: int) -> int:
    if isinstance(valeur, bool):
        return defaut
    if isinstance(valeur, int):
        return valeur
    if isinstance(valeur, str) and valeur.strip().lstrip("-").isdigit():
        return int(valeur)
    return defaut


def _objets(corps: bytes) -> list[dict[str, Any]]:
    """A webhook body: one JSON object, or a list of them."""
    try:
        donnees = json.loads(corps)
    except (ValueError, UnicodeDecodeError) as error:
        raise WebhookRefuse("corps illisible : JSON attendu") from error
    elements = donnees if isinstance(donnees, list) else [donnees]
    if not elements or not all(isinstance(e, dict) for e in elements):
        raise WebhookRefuse("corps illisible : objet JSON attendu")
    return elements


def _texte(valeur: object) -> str | None:
    if isinstance(valeur, bool) or valeur is None:
        return None
    if isinstance(valeur, str | int):
        return str(valeur) or None
    return None


class SmsFactor:
    """A `FournisseurSms` over SMS Factor's JSON API."""

    nom = "smsfactor"

    def __init__(
        self,
        *,
        cle: str,
        client: httpx.AsyncClient,
        url_base: str = URL,
        timeout: float = 10.0,
        secret_webhook: str = "",
        fenetre_recherche: timedelta = timedelta(days=3),
    ) -> None:
        self._cle = cle
        self._client = client
        self._url = url_base.rstrip("/")
        self._timeout = timeout
        self._secret = secret_webhook
        self._fenetre = fenetre_recherche

    def __repr__(self) -> str:
        return f"SmsFactor(url_base={self._url!r})"

    async def envoyer(self, message: MessageSortant) -> Resultat:
        corps = {
            "sms": {
                "message": {
                    "text": message.texte,
                    "sender": message.expediteur,
                    "pushtype": "alert",
                },
                "recipients": {
                    "gsm": [{"gsmsmsid": message.reference, "value": numero(message.destinataire)}]
                },
            }
        }
        reponse = await self._requete("POST", "/send", json=corps)
        resultat = resultat_envoi(self._json(reponse))
        logger.debug(
            "SMS Factor a accepté %s vers %s (ticket %s)",
            message.reference,
            masquer(message.destinataire),
            resultat.fournisseur_id,
        )
        return resultat

    async def retrouver(self, message: MessageSortant) -> Resultat | None:
        """The message sent under our reference to this number in the last days, if any."""
        maintenant = datetime.now(UTC).astimezone(PARIS)
        params: dict[str, str | int] = {
            "date_start": (maintenant - self._fenetre).strftime("%Y-%m-%d %H:%M:%S"),
            "date_end": (maintenant + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
            "destination": numero(message.destinataire),
            "type": "messages-out",
            "length": LONGUEUR_PAGE,
        }
        debut = 0
        while True:
            reponse = await self._requete("GET", "/messages", params={**params, "start": debut})
            corps = self._json(reponse)
            if corps.get("status") != 1:
                statut = _entier(corps.get("status"), -99)
                raise erreur_statut(statut, str(corps.get("message") or ""))
            messages = corps.get("messages") or []
            if not isinstance(messages, list):
                raise ErreurTemporaire("SMS Factor : liste de messages illisible")
            for trouve in messages:
                if not isinstance(trouve, dict):
                    continue
                if _texte(trouve.get("client_message_id")) == message.reference:
                    return Resultat(_texte(trouve.get("campaign_id")))
            debut += len(messages)
            total = _entier(corps.get("totalRecords"), 0)
            if not messages or debut >= total:
                return None

    def lire_accuses(self, requete: Requete) -> list[Accuse]:
        self._authentifier(requete)
        accuses = []
        for element in _objets(requete.corps):
            statut = element.get("status")
            if isinstance(statut, str) and statut.strip().isdigit():
                statut = int(statut)
            if not isinstance(statut, int) or isinstance(statut, bool):
                raise WebhookRefuse("accusé illisible : statut manquant")
            etat, nom = STATUTS_DLR.get(statut, ("inconnu", f"STATUT_{statut}"))
            accuses.append(
                Accuse(
                    fournisseur_id=_texte(element.get("campaign_id")),
                    reference=_texte(element.get("message_id")),
                    statut=etat,
                    erreur=nom if etat == "echec" else "",
                    at=date_fournisseur(element.get("date")),
                )
            )
        return accuses

    def lire_entrants(self, requete: Requete) -> list[MessageEntrant]:
        self._authentifier(requete)
        entrants = []
        for element in _objets(requete.corps):
            expediteur, texte = _texte(element.get("from")), element.get("message")
            if expediteur is None or not isinstance(texte, str):
                raise WebhookRefuse("message entrant illisible : from et message attendus")
            telephone = telephone_e164(expediteur)
            if telephone is None:
                logger.warning(
                    "SMS Factor : entrant d'un numéro illisible (%s)", masquer(expediteur)
                )
                continue
            entrants.append(
                MessageEntrant(
                    telephone=telephone, texte=texte, at=date_fournisseur(element.get("date"))
                )
            )
        return entrants

    def _authentifier(self, requete: Requete) -> None:
        signature = requete.headers.get("x-smsfactor-signature")
        if signature is not None and self._secret:
            digest = hmac.new(self._secret.encode(), requete.corps, hashlib.sha256).hexdigest()
            if secret_valide(signature, self._secret) or secret_valide(signature.lower(), digest):
                return
        if secret_valide(requete.query.get("jeton"), self._secret):
            return
        raise WebhookRefuse("webhook SMS Factor non authentifié")

    async def _requete(
        self,
        methode: str,
        chemin: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str | int] | None = None,
    ) -> httpx.Response:
        try:
            reponse = await self._client.request(
                methode,
                self._url + chemin,
                json=json,
                params=params,
                headers={"Authorization": f"Bearer {self._cle}", "Accept": "application/json"},
                timeout=self._timeout,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise ErreurTemporaire(f"SMS Factor injoignable ({type(error).__name__})") from error
        except httpx.TimeoutException as error:
            raise ErreurTemporaire(
                f"SMS Factor n'a pas répondu en {self._timeout:g} s", incertain=True
            ) from error
        except httpx.TransportError as error:
            raise ErreurTemporaire(
                f"SMS Factor : connexion coupée ({type(error).__name__})", incertain=True
            ) from error
        if reponse.status_code == 429:
            raise ErreurTemporaire(
                "SMS Factor : trop de requêtes (429)",
                retry_after=lire_retry_after(reponse.headers.get("retry-after")),
            )
        if reponse.status_code >= 500:
            raise ErreurTemporaire(
                f"SMS Factor : erreur {reponse.status_code}",
                retry_after=lire_retry_after(reponse.headers.get("retry-after")),
                incertain=reponse.status_code != 503,
            )
        return reponse

    def _json(self, reponse: httpx.Response) -> dict[str, Any]:
        """The answer's JSON object; an HTTP error without one is final (4xx)."""
        try:
            corps = reponse.json()
        except ValueError:
            corps = None
        if isinstance(corps, dict) and "status" in corps:
            return corps
        if reponse.status_code in (401, 403):
            raise ErreurDefinitive(f"SMS Factor : jeton refusé ({reponse.status_code})")
        if reponse.is_success:
            raise ErreurTemporaire("SMS Factor : réponse illisible", incertain=True)
        raise ErreurDefinitive(f"SMS Factor : requête refusée ({reponse.status_code})")

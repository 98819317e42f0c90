"""Brevo transactional SMS (api.brevo.com): send one SMS, find it again, read its webhooks.

What we rely on, from Brevo's documentation:

- Sending: `POST /v3/transactionalSMS/send`, header `api-key: <key>`, JSON body `sender`
  (11 alphanumeric characters at most), `recipient` (country code and number, 6 to 15
  digits), `content`, `type` ("transactional"), `tag` (a string or up to 10 strings),
  `unicodeEnabled`, optional `webUrl` (a webhook called for each event of this message).
  The answer (201) is `{"messageId": 1511882900176220}`. The older `POST
  /v3/transactionalSMS/sms` (the one first named to us) was deprecated on 2025-05-01 "in
  favor of a more stable and simplified version"; it also answered `reference`, `smsCount`,
  `usedCredits`, `remainingCredits`, and we read `smsCount` as `segments` when present.
  https://developers.brevo.com/changelog/2025/5/1,
  https://developers.brevo.com/docs/transactional-sms-endpoints,
  https://github.com/getbrevo/brevo-php/blob/HEAD/docs/Model/SendTransacSms.md
- Errors: 400 bad request (`{"code": "invalid_parameter", "message": ...}`), 401
  authentication needed, 402 "not enough credit, plan upgrade needed", 403 permission
  denied, 404, 429 too many requests with `x-sib-ratelimit-limit/-remaining/-reset` (seconds
  until the window resets). https://developers.brevo.com/docs/limit-headers,
  https://developers.brevo.com/docs/api-limits (POST /v3/transactionalSMS/sms: 150 per second)
- Look-up: `GET /v3/transactionalSMS/statistics/events` filtered by `phoneNumber`, `tags`,
  `event`, `days` or `startDate`/`endDate`, `limit` (100 at most), `offset`, `sort`; each
  event has `phoneNumber`, `date`, `messageId`, `event` (sent, accepted, delivered, replied,
  softBounce, hardBounce, subscribe, unsubscribe, skip, rejected), `reason`, `reply`, `tag`.
  https://developers.brevo.com/reference/get-sms-events. Our reference is the message's tag,
  so `retrouver` asks for the events of that tag and number. Events are written shortly after
  the send, not at once: the outbox reconciles only messages claimed minutes ago.
- Webhooks (transactional SMS): a POST per event with `to`, `messageId`, `reference` (Brevo's
  own id, not ours), `msg_status` (sent, delivered, soft_bounce, hard_bounce...), `date`
  (Paris time), `tag`, `type`, `sms_count`, `credits_used`; replies and unsubscriptions are
  events too (Replied, Unsubscribe); `batched` webhooks send a list.
  https://developers.brevo.com/docs/transactional-webhooks. The page we read lists the
  reply event without showing its fields: we read the text from `reply` (as in the events
  API) or `text`/`content`/`message`, and the number from `from`, `phoneNumber` or `to`.
- Webhook authentication: none by default; a webhook can be created with `auth: {"type":
  "bearer", "token": ...}` (sent as `Authorization: Bearer <token>`) or with
  `https://user:password@host/...` (HTTP basic). https://developers.brevo.com/docs/secured-webhooks,
  https://developers.brevo.com/reference/create-webhook. We accept, in constant time, the
  secret as the bearer token, as the basic password, or as `?jeton=` in the URL (for a
  per-message `webUrl`, which carries no credentials).

Decisions: a refused key (401) or request (400, 403, 404...) is final. No credit (402) is
temporary, retried after 15 minutes: a top-up fixes it, and a final error would drop every
message of the outage (they still expire with their rdv).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any

import httpx

from notifications.fournisseurs.base import (
    Accuse,
    ErreurDefinitive,
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
from notifications.textes import est_gsm7

logger = logging.getLogger(__name__)

URL = "https://api.brevo.com"
CHEMIN_ENVOI = "/v3/transactionalSMS/send"
CHEMIN_EVENEMENTS = "/v3/transactionalSMS/statistics/events"
ATTENTE_CREDIT = 900.0

# Event names as written by the webhooks (msg_status) or the events API, lower-cased and
# without underscores: what each one says of a message.
ETATS = {
    "sent": "en_cours",
    "accepted": "en_cours",
    "request": "en_cours",
    "delivered": "delivre",
    "softbounce": "echec",
    "softbounces": "echec",
    "hardbounce": "echec",
    "hardbounces": "echec",
    "rejected": "echec",
    "blocked": "echec",
    "skip": "echec",
    "skipped": "echec",
    "error": "echec",
}
REPONSES = {"replied", "reply", "inbound"}
DESABONNEMENTS = {"unsubscribe", "unsubscribed", "stop"}


def numero(e164: str) -> str:
    """+33612345678 -> 33612345678: the country code and number, digits only."""
    return e164.strip().removeprefix("+")


def _evenement(element: dict[str, Any]) -> str:
    brut = element.get("msg_status") or element.get("event") or ""
    return str(brut).replace("_", "").replace("-", "").lower()


def _tag(element: dict[str, Any]) -> str | None:
    """Our reference: the message's tag (a string, or the first of a list)."""
    for cle in ("tag", "tags"):
        valeur = element.get(cle)
        if isinstance(valeur, list) and valeur and isinstance(valeur[0], str):
            return valeur[0]
        if isinstance(valeur, str) and valeur:
            return valeur
    return None


def _identifiant(valeur: object) -> str | None:
    if isinstance(valeur, bool) or valeur is None:
        return None
    if isinstance(valeur, int | str):
        return str(valeur) or None
    return None


def _quand(element: dict[str, Any]) -> Any:
    for cle in ("ts_event", "ts_epoch", "ts", "date"):
        if element.get(cle) not in (None, ""):
            return element[cle]
    return None


def _objets(corps: bytes) -> list[dict[str, Any]]:
    try:
        donnees = json.loads(corps)
    except (ValueError, UnicodeDecodeError) as error:
        raise WebhookRefuse("corps illisible : JSON attendu") from error
    elements = donnees if isinstance(donnees, list) else [donnees]
    if not elements or not all(isinstance(e, dict) for e in elements):
        raise WebhookRefuse("corps illisible : objet JSON attendu")
    return elements


def _objet_json(reponse: httpx.Response) -> dict[str, Any]:
    """The JSON object of a 2xx answer ({} if there is none)."""
    try:
        donnees = reponse.json()
    except ValueError:
        return {}
    return donnees if isinstance(donnees, dict) else {}


def erreur_http(reponse: httpx.Response) -> ErreurDefinitive | ErreurTemporaire:
    """The error for a 4xx answer (429 and 5xx are handled before)."""
    try:
        corps = reponse.json()
    except ValueError:
        corps = None
    detail = ""
    if isinstance(corps, dict):
        detail = " ".join(str(corps[c]) for c in ("code", "message") if corps.get(c))
    raison = f"Brevo : {detail or 'requête refusée'} ({reponse.status_code})"
    if reponse.status_code == 402:
        return ErreurTemporaire(raison + ", crédit SMS épuisé", retry_after=ATTENTE_CREDIT)
    if reponse.status_code == 401:
        return ErreurDefinitive(raison + ", clé API refusée")
    return ErreurDefinitive(raison)


class Brevo:
    """A `FournisseurSms` over Brevo's transactional SMS API."""

    nom = "brevo"

    def __init__(
        self,
        *,
        cle: str,
        client: httpx.AsyncClient,
        url_base: str = URL,
        timeout: float = 10.0,
        secret_webhook: str = "",
        url_webhook: str | None = None,
        jours_recherche: int = 3,
    ) -> None:
        self._cle = cle
        self._client = client
        self._url = url_base.rstrip("/")
        self._timeout = timeout
        self._secret = secret_webhook
        self._url_webhook = url_webhook
        self._jours = jours_recherche

    def __repr__(self) -> str:
        return f"Brevo(url_base={self._url!r})"

    async def envoyer(self, message: MessageSortant) -> Resultat:
        corps: dict[str, Any] = {
            "sender": message.expediteur,
            "recipient": numero(message.destinataire),
            "content": message.texte,
            "type": "transactional",
            "tag": message.reference,
            "unicodeEnabled": not est_gsm7(message.texte),
        }
        if self._url_webhook:
            corps["webUrl"] = self._url_webhook
        reponse = await self._requete("POST", CHEMIN_ENVOI, json=corps)
        donnees = _objet_json(reponse)
        identifiant = _identifiant(donnees.get("messageId"))
        if identifiant is None:
            raise ErreurTemporaire("Brevo : réponse sans messageId", incertain=True)
        segments = donnees.get("smsCount")
        logger.debug(
            "Brevo a accepté %s vers %s (%s)",
            message.reference,
            masquer(message.destinataire),
            identifiant,
        )
        return Resultat(identifiant, segments if isinstance(segments, int) and segments else None)

    async def retrouver(self, message: MessageSortant) -> Resultat | None:
        """The message tagged with our reference to this number, from its events."""
        params: dict[str, str | int] = {
            "phoneNumber": numero(message.destinataire),
            "tags": message.reference,
            "days": self._jours,
            "limit": 100,
            "sort": "desc",
        }
        reponse = await self._requete("GET", CHEMIN_EVENEMENTS, params=params)
        evenements = _objet_json(reponse).get("events") or []
        if not isinstance(evenements, list):
            raise ErreurTemporaire("Brevo : événements illisibles")
        for evenement in evenements:
            if isinstance(evenement, dict) and _tag(evenement) == message.reference:
                return Resultat(_identifiant(evenement.get("messageId")))
        return None

    def lire_accuses(self, requete: Requete) -> list[Accuse]:
        self._authentifier(requete)
        accuses = []
        for element in _objets(requete.corps):
            evenement = _evenement(element)
            if not evenement:
                raise WebhookRefuse("événement Brevo illisible : msg_status ou event attendu")
            if evenement in REPONSES or evenement in DESABONNEMENTS:
                continue
            etat = ETATS.get(evenement, "inconnu")
            raison = element.get("reason") or element.get("description") or ""
            accuses.append(
                Accuse(
                    fournisseur_id=_identifiant(element.get("messageId")),
                    reference=_tag(element),
                    statut=etat,
                    erreur=f"{evenement} {raison}".strip() if etat == "echec" else "",
                    at=date_fournisseur(_quand(element)),
                )
            )
        return accuses

    def lire_entrants(self, requete: Requete) -> list[MessageEntrant]:
        self._authentifier(requete)
        entrants = []
        for element in _objets(requete.corps):
            evenement = _evenement(element)
            if evenement not in REPONSES and evenement not in DESABONNEMENTS:
                continue
            brut = next(
                (str(element[c]) for c in ("from", "phoneNumber", "to") if element.get(c)), None
            )
            if brut is None:
                raise WebhookRefuse("message entrant Brevo illisible : numéro attendu")
            telephone = telephone_e164(brut)
            if telephone is None:
                logger.warning("Brevo : entrant d'un numéro illisible %s", masquer(brut))
                continue
            if evenement in DESABONNEMENTS:
                texte = "STOP"
            else:
                texte = next(
                    (
                        element[c]
                        for c in ("reply", "text", "content", "message")
                        if isinstance(element.get(c), str)
                    ),
                    "",
                )
            entrants.append(
                MessageEntrant(
                    telephone=telephone, texte=texte, at=date_fournisseur(_quand(element))
                )
            )
        return entrants

    def _authentifier(self, requete: Requete) -> None:
        autorisation = requete.headers.get("authorization", "")
        schema, _, valeur = autorisation.partition(" ")
        if schema.lower() == "bearer" and secret_valide(valeur.strip(), self._secret):
            return
        if schema.lower() == "basic":
            try:
                paire = base64.b64decode(valeur.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                paire = ""
            if secret_valide(paire.partition(":")[2], self._secret):
                return
        if secret_valide(requete.query.get("jeton"), self._secret):
            return
        raise WebhookRefuse("webhook Brevo non authentifié")

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
                headers={"api-key": self._cle, "Accept": "application/json"},
                timeout=self._timeout,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise ErreurTemporaire(f"Brevo injoignable ({type(error).__name__})") from error
        except httpx.TimeoutException as error:
            raise ErreurTemporaire(
                f"Brevo n'a pas répondu en {self._timeout:g} s", incertain=True
            ) from error
        except httpx.TransportError as error:
            raise ErreurTemporaire(
                f"Brevo : connexion coupée ({type(error).__name__})", incertain=True
            ) from error
        if reponse.status_code == 429:
            attente = lire_retry_after(reponse.headers.get("retry-after"))
            if attente is None:
                attente = lire_retry_after(reponse.headers.get("x-sib-ratelimit-reset"))
            raise ErreurTemporaire("Brevo : trop de requêtes (429)", retry_after=attente)
        if reponse.status_code >= 500:
            raise ErreurTemporaire(
                f"Brevo : erreur {reponse.status_code}",
                retry_after=lire_retry_after(reponse.headers.get("retry-after")),
                incertain=reponse.status_code != 503,
            )
        if reponse.status_code >= 400:
            raise erreur_http(reponse)
        return reponse

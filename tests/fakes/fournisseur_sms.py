"""A fake SMS provider: a real HTTP server on 127.0.0.1 playing SMS Factor AND Brevo.

It answers on their real paths with their auth checks and answer shapes (see the facts in
`notifications/fournisseurs/smsfactor.py` and `brevo.py`):

- SMS Factor: `POST /send` (Bearer token), `GET /messages` (look-up by number and dates);
- Brevo: `POST /v3/transactionalSMS/send` and the deprecated `/sms` (header `api-key`),
  `GET /v3/transactionalSMS/statistics/events` (look-up by number and tag).

Where the documentation is silent we chose, and the tests rely on no more than this: SMS
Factor refuses a bad token with HTTP 401 and `{"status": -1}`, and its other errors with
HTTP 200 and a negative status; it answers an invalid number with status 1, `sent` 0 and
`invalid` 1 (its counters); Brevo answers it 400 `invalid_parameter`.

Programmable behaviour (Python methods, or `POST /_fake/programmer` from another process):
a latency on every API answer; the next N requests failing with 500, 503 or 429 +
Retry-After; the next N requests hanging (longer than the client's timeout), before or
after the message is recorded; the next N answers lost (message recorded, connection
closed); "down" (connections refused, or 503) until `retablir()` or for some seconds;
no credit; numbers on SMS Factor's blacklist.

It records every accepted message by our reference (`recus`, `par_reference`) and counts
duplicates (`doublons()`: references accepted more than once), answers the look-ups, and
POSTs delivery reports and inbound SMS (STOP) to a webhook URL the way each provider does
(`envoyer_accuse`, `envoyer_entrant`, and their async twins).

Control API over HTTP (not subject to latency, failures or auth):
`POST /_fake/programmer` {"latence", "echecs": {"nombre", "code", "retry_after"},
"bloquer": {"nombre", "duree", "apres_reception"}, "perdre_reponses", "panne": {"mode",
"duree"}, "sans_credit", "liste_noire"}; `POST /_fake/retablir`; `POST /_fake/reinitialiser`;
`GET /_fake/etat` -> {"requetes", "recus", "doublons"}; `POST /_fake/accuse` {"url",
"reference", "statut", "fournisseur"}; `POST /_fake/entrant` {"url", "telephone", "texte",
"fournisseur"} -> {"code"}.

Use: `with FauxFournisseurSms() as faux:` (a thread), the `faux_fournisseur_sms` fixture
(one server per test process, reset for each test), or `python -m tests.fakes.fournisseur_sms
--port N` / `sous_processus()` for another process.
"""

from __future__ import annotations

import argparse
import atexit
import itertools
import json
import socket
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import phonenumbers
import pytest

CLE_SMSFACTOR = "jeton-smsfactor-de-test"
CLE_BREVO = "xkeysib-cle-brevo-de-test"
SECRET_WEBHOOK = "secret-webhook-de-test"
PARIS = ZoneInfo("Europe/Paris")


@dataclass
class Recu:
    """A message the fake accepted."""

    fournisseur: str  # "smsfactor" or "brevo"
    reference: str
    destinataire: str  # as sent: digits, no "+"
    texte: str
    expediteur: str
    fournisseur_id: str  # SMS Factor's ticket, Brevo's messageId
    message_id: int
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    statut: str = "sent"


@dataclass
class _Programme:
    latence: float = 0.0
    echecs: deque[tuple[int, float | None]] = field(default_factory=deque)
    blocages: deque[tuple[float, bool]] = field(default_factory=deque)
    reponses_perdues: int = 0
    panne: str | None = None  # "refus" or "503"
    sans_credit: bool = False
    liste_noire: set[str] = field(default_factory=set)


def port_libre() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _chiffres(valeur: object) -> str:
    return "".join(c for c in str(valeur or "") if c.isdigit())


def _numero_valide(chiffres: str) -> bool:
    if not 6 <= len(chiffres) <= 15:
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse("+" + chiffres, None))
    except phonenumbers.NumberParseException:
        return False


class _Gestionnaire(BaseHTTPRequestHandler):
    server: _Serveur
    protocol_version = "HTTP/1.1"
    # The handler writes an answer's headers and body in two sends: with Nagle's algorithm
    # on, the body waited for the ACK of the headers, which the client delays (40 ms on
    # Linux), so every answer on a kept-alive connection came 44 ms late.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.faux._traiter(self)

    def do_POST(self) -> None:  # noqa: N802
        self.server.faux._traiter(self)


class _Serveur(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog is 5: a worker opening its 50 connections at
    # once found the accept queue full and got them reset, which no provider's front end
    # does.
    request_queue_size = 128

    def __init__(self, port: int, faux: FauxFournisseurSms) -> None:
        self.faux = faux
        self.connexions: set[socket.socket] = set()
        super().__init__(("127.0.0.1", port), _Gestionnaire)

    def get_request(self) -> tuple[socket.socket, Any]:
        connexion, adresse = super().get_request()
        self.connexions.add(connexion)
        return connexion, adresse

    def shutdown_request(self, request: Any) -> None:
        self.connexions.discard(request)
        super().shutdown_request(request)

    def couper(self) -> None:
        """Stop listening and cut the open (kept-alive) connections: a client pool must not
        keep talking to a provider that is down."""
        self.shutdown()
        self.server_close()
        for connexion in list(self.connexions):
            try:
                connexion.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class FauxFournisseurSms:
    """SMS Factor and Brevo on one port; program it, then read what it received."""

    def __init__(
        self,
        *,
        port: int = 0,
        cle_smsfactor: str = CLE_SMSFACTOR,
        cle_brevo: str = CLE_BREVO,
        secret_webhook: str = SECRET_WEBHOOK,
    ) -> None:
        self.port = port or port_libre()
        self.cle_smsfactor = cle_smsfactor
        self.cle_brevo = cle_brevo
        self.secret_webhook = secret_webhook
        self._verrou = threading.Lock()
        self._liberer = threading.Event()
        self._serveur: _Serveur | None = None
        self._fil: threading.Thread | None = None
        self._minuteur: threading.Timer | None = None
        self._compteur = itertools.count(1)
        self.reinitialiser()

    # Life cycle.

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def demarrer(self) -> FauxFournisseurSms:
        self._serveur = _Serveur(self.port, self)
        self._fil = threading.Thread(target=self._serveur.serve_forever, daemon=True)
        self._fil.start()
        return self

    def arreter(self) -> None:
        self._liberer.set()
        if self._minuteur is not None:
            self._minuteur.cancel()
        self._fil = None
        self._fermer_ecoute()

    def __enter__(self) -> FauxFournisseurSms:
        return self.demarrer()

    def __exit__(self, *exc: object) -> None:
        self.arreter()

    async def __aenter__(self) -> FauxFournisseurSms:
        return self.demarrer()

    async def __aexit__(self, *exc: object) -> None:
        self.arreter()

    def _fermer_ecoute(self) -> None:
        serveur, self._serveur = self._serveur, None
        if serveur is not None:
            serveur.couper()

    # Programming.

    def reinitialiser(self) -> None:
        """Forget everything received and programmed; back up if it was down."""
        self._liberer.set()
        with self._verrou:
            self.programme = _Programme()
            self.recus: list[Recu] = []
            self.requetes = 0
            self._evenements: list[dict[str, Any]] = []
        self._liberer = threading.Event()
        self.retablir()

    def latence(self, secondes: float) -> None:
        self.programme.latence = secondes

    def echouer(
        self, nombre: int = 1, *, code: int = 500, retry_after: float | None = None
    ) -> None:
        """The next `nombre` API requests answer `code` (500, 503, 429...)."""
        with self._verrou:
            self.programme.echecs.extend([(code, retry_after)] * nombre)

    def trop_de_requetes(self, nombre: int = 1, *, retry_after: float = 2.0) -> None:
        self.echouer(nombre, code=429, retry_after=retry_after)

    def bloquer(
        self, nombre: int = 1, *, duree: float = 30.0, apres_reception: bool = False
    ) -> None:
        """The next `nombre` API requests hang `duree` seconds, then the connection is closed;
        with `apres_reception`, a message is recorded first (accepted, the answer lost)."""
        with self._verrou:
            self.programme.blocages.extend([(duree, apres_reception)] * nombre)

    def perdre_reponses(self, nombre: int = 1) -> None:
        """The next `nombre` sends are recorded, then the connection closes without an answer."""
        with self._verrou:
            self.programme.reponses_perdues += nombre

    def panne(self, mode: str = "refus", *, duree: float | None = None) -> None:
        """Down: "refus" closes the port (connection refused), "503" answers 503 to all API
        requests; until `retablir()`, or for `duree` seconds."""
        if mode not in ("refus", "503"):
            raise ValueError(mode)
        self.programme.panne = mode
        if mode == "refus":
            self._fermer_ecoute()
        if duree is not None:
            self._minuteur = threading.Timer(duree, self.retablir)
            self._minuteur.daemon = True
            self._minuteur.start()

    def retablir(self) -> None:
        self.programme.panne = None
        if self._fil is not None and self._serveur is None:
            self.demarrer()

    def sans_credit(self, actif: bool = True) -> None:
        self.programme.sans_credit = actif

    def liste_noire(self, *telephones: str) -> None:
        """Numbers SMS Factor filters out (a STOP they received)."""
        self.programme.liste_noire.update(_chiffres(t) for t in telephones)

    # Reading.

    def par_reference(self, reference: str) -> list[Recu]:
        with self._verrou:
            return [r for r in self.recus if r.reference == reference]

    def doublons(self) -> dict[str, int]:
        """References accepted more than once, with how many times."""
        with self._verrou:
            compte = Counter(r.reference for r in self.recus)
        return {reference: n for reference, n in compte.items() if n > 1}

    def etat(self) -> dict[str, Any]:
        with self._verrou:
            recus = [{**asdict(r), "at": r.at.isoformat()} for r in self.recus]
            requetes = self.requetes
        return {"requetes": requetes, "recus": recus, "doublons": self.doublons()}

    # Webhooks, as each provider sends them.

    def envoyer_accuse(
        self, url: str, reference: str, *, statut: str = "delivre", secret: str | None = None
    ) -> int:
        """POST a delivery report of `reference` ("delivre" or "echec") to `url`."""
        corps, entetes = self._accuse(reference, statut, secret)
        return httpx.post(url, json=corps, headers=entetes, timeout=10).status_code

    async def aenvoyer_accuse(
        self, url: str, reference: str, *, statut: str = "delivre", secret: str | None = None
    ) -> int:
        corps, entetes = self._accuse(reference, statut, secret)
        async with httpx.AsyncClient(timeout=10) as client:
            return (await client.post(url, json=corps, headers=entetes)).status_code

    def envoyer_entrant(
        self,
        url: str,
        telephone: str,
        texte: str = "STOP",
        *,
        fournisseur: str = "smsfactor",
        secret: str | None = None,
    ) -> int:
        """POST an SMS sent by `telephone` (a reply, STOP) to `url`."""
        corps, entetes = self._entrant(telephone, texte, fournisseur, secret)
        return httpx.post(url, json=corps, headers=entetes, timeout=10).status_code

    async def aenvoyer_entrant(
        self,
        url: str,
        telephone: str,
        texte: str = "STOP",
        *,
        fournisseur: str = "smsfactor",
        secret: str | None = None,
    ) -> int:
        corps, entetes = self._entrant(telephone, texte, fournisseur, secret)
        async with httpx.AsyncClient(timeout=10) as client:
            return (await client.post(url, json=corps, headers=entetes)).status_code

    def _accuse(
        self, reference: str, statut: str, secret: str | None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        trouves = self.par_reference(reference)
        if not trouves:
            raise LookupError(f"aucun message reçu sous la référence {reference}")
        recu = trouves[-1]
        recu.statut = "delivered" if statut == "delivre" else "hard_bounce"
        maintenant = datetime.now(PARIS)
        if recu.fournisseur == "smsfactor":
            corps: dict[str, Any] = {
                "date": maintenant.isoformat(timespec="seconds"),
                "status": 3 if statut == "delivre" else 5,
                "destination": recu.destinataire,
                "message_id": recu.reference,
                "campaign_id": recu.fournisseur_id,
                "country_code": "FR",
            }
            return corps, {"X-SMSFactor-Signature": secret or self.secret_webhook}
        self._evenement(recu, "delivered" if statut == "delivre" else "hardBounce")
        corps = {
            "id": 26570,
            "to": recu.destinataire,
            "sms_count": 1,
            "credits_used": 1.0,
            "messageId": int(recu.fournisseur_id),
            "remaining_credit": 1000.0,
            "msg_status": recu.statut,
            "date": maintenant.strftime("%Y-%m-%d %H:%M:%S"),
            "type": "transactional",
            "reference": f"brevo-{recu.message_id}",
            "tag": recu.reference,
            "ts_event": int(time.time()),
        }
        if statut != "delivre":
            corps["description"] = "Invalid number"
        return corps, {"Authorization": f"Bearer {secret or self.secret_webhook}"}

    def _entrant(
        self, telephone: str, texte: str, fournisseur: str, secret: str | None
    ) -> tuple[dict[str, Any], dict[str, str]]:
        chiffres = _chiffres(telephone)
        maintenant = datetime.now(PARIS)
        if fournisseur == "smsfactor":
            derniers = [r for r in self.recus if r.destinataire == chiffres]
            corps: dict[str, Any] = {
                "date": maintenant.isoformat(timespec="seconds"),
                "message": texte,
                "from": chiffres,
                "account_id": "1234",
                "last_message_id": derniers[-1].reference if derniers else "",
            }
            return corps, {"X-SMSFactor-Signature": secret or self.secret_webhook}
        stop = texte.strip().upper() == "STOP"
        corps = {
            "to": chiffres,
            "msg_status": "unsubscribe" if stop else "replied",
            "date": maintenant.strftime("%Y-%m-%d %H:%M:%S"),
            "ts_event": int(time.time()),
            "type": "transactional",
        }
        if not stop:
            corps["reply"] = texte
        return corps, {"Authorization": f"Bearer {secret or self.secret_webhook}"}

    # The server side.

    def _traiter(self, requete: _Gestionnaire) -> None:
        parties = urlsplit(requete.path)
        query = {cle: valeurs[-1] for cle, valeurs in parse_qs(parties.query).items()}
        longueur = int(requete.headers.get("content-length") or 0)
        corps = requete.rfile.read(longueur) if longueur else b""
        if parties.path.startswith("/_fake/"):
            code, reponse = self._controle(requete.command, parties.path, corps)
            return self._repondre(requete, code, reponse)
        routes = {
            ("POST", "/send"): ("smsfactor", self._smsfactor_envoi),
            ("GET", "/messages"): ("smsfactor", self._smsfactor_messages),
            ("POST", "/v3/transactionalSMS/send"): ("brevo", self._brevo_envoi),
            ("POST", "/v3/transactionalSMS/sms"): ("brevo", self._brevo_envoi_ancien),
            ("GET", "/v3/transactionalSMS/statistics/events"): ("brevo", self._brevo_evenements),
        }
        if (requete.command, parties.path) not in routes:
            return self._repondre(requete, 404, {"message": "not found"})
        fournisseur, route = routes[(requete.command, parties.path)]
        with self._verrou:
            self.requetes += 1
            panne = self.programme.panne
            echec = self.programme.echecs.popleft() if self.programme.echecs else None
            blocage = self.programme.blocages.popleft() if self.programme.blocages else None
        if panne == "503":
            return self._repondre(requete, 503, {"message": "Service Unavailable"})
        if self.programme.latence:
            time.sleep(self.programme.latence)
        if echec is not None:
            code, retry_after = echec
            entetes = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
            return self._repondre(requete, code, {"message": f"erreur {code}"}, entetes)
        if blocage is not None and not blocage[1]:
            return self._pendre(requete, blocage[0])
        if not self._authentifie(requete, fournisseur, query):
            if fournisseur == "smsfactor":
                return self._repondre(
                    requete, 401, {"status": -1, "message": "Authentication error"}
                )
            return self._repondre(
                requete, 401, {"code": "unauthorized", "message": "Key not found"}
            )
        code, reponse = route(corps, query)
        if requete.command == "POST" and code < 300:
            if blocage is not None:
                return self._pendre(requete, blocage[0])
            with self._verrou:
                perdre = self.programme.reponses_perdues > 0
                self.programme.reponses_perdues -= int(perdre)
            if perdre:
                requete.close_connection = True
                return None
        return self._repondre(requete, code, reponse)

    def _pendre(self, requete: _Gestionnaire, duree: float) -> None:
        self._liberer.wait(duree)
        requete.close_connection = True

    def _authentifie(self, requete: _Gestionnaire, fournisseur: str, query: dict[str, str]) -> bool:
        if fournisseur == "smsfactor":
            jeton = requete.headers.get("authorization", "").removeprefix("Bearer ").strip()
            return self.cle_smsfactor in (jeton, query.get("token"))
        return requete.headers.get("api-key") == self.cle_brevo

    def _repondre(
        self,
        requete: _Gestionnaire,
        code: int,
        corps: dict[str, Any],
        entetes: dict[str, str] | None = None,
    ) -> None:
        donnees = json.dumps(corps).encode()
        requete.send_response(code)
        requete.send_header("Content-Type", "application/json")
        requete.send_header("Content-Length", str(len(donnees)))
        for nom, valeur in (entetes or {}).items():
            requete.send_header(nom, valeur)
        requete.end_headers()
        requete.wfile.write(donnees)

    def _enregistrer(self, recu: Recu) -> None:
        with self._verrou:
            self.recus.append(recu)
        if recu.fournisseur == "brevo":
            self._evenement(recu, "sent")

    def _evenement(self, recu: Recu, nom: str) -> None:
        with self._verrou:
            self._evenements.append(
                {
                    "phoneNumber": recu.destinataire,
                    "date": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "messageId": recu.fournisseur_id,
                    "event": nom,
                    "tag": recu.reference,
                }
            )

    def _smsfactor_envoi(self, corps: bytes, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            sms = json.loads(corps)["sms"]
            texte, expediteur = sms["message"]["text"], sms["message"].get("sender", "")
            gsm = sms["recipients"]["gsm"]
        except (ValueError, KeyError, TypeError):
            return 200, {"status": -6, "message": "JSON error"}
        if not isinstance(texte, str) or not texte or not isinstance(gsm, list) or not gsm:
            return 200, {"status": -7, "message": "Data error", "details": "text and gsm"}
        if self.programme.sans_credit:
            return 200, {"status": -3, "message": "Not enough credits"}
        ticket = str(14672468 + next(self._compteur))
        compte = Counter[str]()
        for destinataire in gsm:
            chiffres = _chiffres(
                destinataire.get("value") if isinstance(destinataire, dict) else ""
            )
            if not _numero_valide(chiffres):
                compte["invalid"] += 1
            elif chiffres in self.programme.liste_noire:
                compte["blacklisted"] += 1
            else:
                compte["sent"] += 1
                reference = str(destinataire.get("gsmsmsid") or "")
                numero = next(self._compteur)
                self._enregistrer(
                    Recu("smsfactor", reference, chiffres, texte, expediteur, ticket, numero)
                )
        filtres = ("blacklisted", "duplicated", "invalid", "npai", "not_allowed", "flood")
        return 200, {
            "status": 1,
            "message": "OK",
            "ticket": ticket,
            "cost": compte["sent"],
            "credits": 1000 - compte["sent"],
            "total": len(gsm),
            "sent": compte["sent"],
            **{cle: compte[cle] for cle in filtres},
            "country_limit": 0,
        }

    def _smsfactor_messages(
        self, corps: bytes, query: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        try:
            debut = datetime.strptime(query["date_start"], "%Y-%m-%d %H:%M:%S").replace(
                tzinfo=PARIS
            )
            fin = datetime.strptime(query["date_end"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=PARIS)
        except (KeyError, ValueError):
            return 200, {"status": -7, "message": "Data error", "details": "date_start, date_end"}
        destination = _chiffres(query.get("destination"))
        with self._verrou:
            trouves = [
                r
                for r in self.recus
                if r.fournisseur == "smsfactor"
                and debut <= r.at <= fin
                and (not destination or r.destinataire == destination)
            ]
        if query.get("type") == "messages-in":
            trouves = []
        start, longueur = int(query.get("start", 0)), min(int(query.get("length", 100)), 1000)
        page = trouves[start : start + longueur]
        return 200, {
            "status": 1,
            "message": "OK",
            "totalRecords": len(trouves),
            "totalDisplayRecords": len(page),
            "messages": [
                {
                    "campaign_id": int(r.fournisseur_id),
                    "client_id": 1,
                    "client_message_id": r.reference,
                    "message": r.texte,
                    "destination": r.destinataire,
                    "message_id": r.message_id,
                    "sender": r.expediteur,
                    "date": r.at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S"),
                    "status": r.statut.upper(),
                    "type": "sms_mt",
                }
                for r in page
            ],
        }

    def _brevo_envoi(self, corps: bytes, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            donnees = json.loads(corps)
            expediteur, destinataire, texte = (
                donnees["sender"],
                donnees["recipient"],
                donnees["content"],
            )
        except (ValueError, KeyError, TypeError):
            return 400, {"code": "missing_parameter", "message": "sender, recipient, content"}
        if self.programme.sans_credit:
            return 402, {"code": "not_enough_credits", "message": "Not enough credits"}
        chiffres = _chiffres(destinataire)
        if not _numero_valide(chiffres):
            return 400, {"code": "invalid_parameter", "message": "Invalid phone number"}
        if not isinstance(expediteur, str) or not expediteur.isalnum() or len(expediteur) > 11:
            return 400, {"code": "invalid_parameter", "message": "Invalid sender"}
        tag = donnees.get("tag")
        reference = tag[0] if isinstance(tag, list) and tag else str(tag or "")
        numero = next(self._compteur)
        message_id = 1511882900176220 + numero
        self._enregistrer(
            Recu("brevo", reference, chiffres, texte, expediteur, str(message_id), numero)
        )
        return 201, {"messageId": message_id}

    def _brevo_envoi_ancien(
        self, corps: bytes, query: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        """The deprecated /sms answers more: Brevo's reference, segments and credits."""
        code, reponse = self._brevo_envoi(corps, query)
        if code == 201:
            texte = json.loads(corps)["content"]
            segments = 1 if len(texte) <= 160 else -(-len(texte) // 153)
            reponse.update(
                reference=f"brevo-{reponse['messageId']}",
                smsCount=segments,
                usedCredits=float(segments),
                remainingCredits=1000.0,
            )
        return code, reponse

    def _brevo_evenements(self, corps: bytes, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        telephone = _chiffres(query.get("phoneNumber"))
        tags = set(filter(None, query.get("tags", "").split(",")))
        jours = int(query.get("days", 30))
        limite = datetime.now(UTC) - timedelta(days=jours)
        with self._verrou:
            evenements = [
                e
                for e in self._evenements
                if (not telephone or e["phoneNumber"] == telephone)
                and (not tags or e["tag"] in tags)
                and (not query.get("event") or e["event"] == query["event"])
                and datetime.fromisoformat(e["date"]) >= limite
            ]
        if query.get("sort", "desc") == "desc":
            evenements.reverse()
        debut, nombre = int(query.get("offset", 0)), min(int(query.get("limit", 50)), 100)
        return 200, {"events": evenements[debut : debut + nombre]}

    def _controle(self, methode: str, chemin: str, corps: bytes) -> tuple[int, dict[str, Any]]:
        donnees = json.loads(corps) if corps else {}
        if (methode, chemin) == ("GET", "/_fake/etat"):
            return 200, self.etat()
        if (methode, chemin) == ("POST", "/_fake/reinitialiser"):
            self.reinitialiser()
        elif (methode, chemin) == ("POST", "/_fake/retablir"):
            self.retablir()
        elif (methode, chemin) == ("POST", "/_fake/programmer"):
            self._programmer(donnees)
        elif (methode, chemin) == ("POST", "/_fake/accuse"):
            code = self.envoyer_accuse(
                donnees["url"], donnees["reference"], statut=donnees.get("statut", "delivre")
            )
            return 200, {"code": code}
        elif (methode, chemin) == ("POST", "/_fake/entrant"):
            code = self.envoyer_entrant(
                donnees["url"],
                donnees["telephone"],
                donnees.get("texte", "STOP"),
                fournisseur=donnees.get("fournisseur", "smsfactor"),
            )
            return 200, {"code": code}
        else:
            return 404, {"message": "commande inconnue"}
        return 200, {"ok": True}

    def _programmer(self, donnees: dict[str, Any]) -> None:
        if "latence" in donnees:
            self.latence(float(donnees["latence"]))
        if echecs := donnees.get("echecs"):
            self.echouer(
                int(echecs.get("nombre", 1)),
                code=int(echecs.get("code", 500)),
                retry_after=echecs.get("retry_after"),
            )
        if bloquer := donnees.get("bloquer"):
            self.bloquer(
                int(bloquer.get("nombre", 1)),
                duree=float(bloquer.get("duree", 30)),
                apres_reception=bool(bloquer.get("apres_reception", False)),
            )
        if donnees.get("perdre_reponses"):
            self.perdre_reponses(int(donnees["perdre_reponses"]))
        if "sans_credit" in donnees:
            self.sans_credit(bool(donnees["sans_credit"]))
        if donnees.get("liste_noire"):
            self.liste_noire(*donnees["liste_noire"])
        if panne := donnees.get("panne"):
            # From another process, a refusal needs a duration: the control port closes too.
            threading.Thread(
                target=self.panne,
                args=(panne.get("mode", "503"),),
                kwargs={"duree": panne.get("duree")},
                daemon=True,
            ).start()


_partage: FauxFournisseurSms | None = None


def partage() -> FauxFournisseurSms:
    """One fake per test process, started on first use, stopped at exit."""
    global _partage
    if _partage is None:
        _partage = FauxFournisseurSms().demarrer()
        atexit.register(_partage.arreter)
    return _partage


@pytest.fixture(name="faux_fournisseur_sms")
def fixture_faux_fournisseur_sms() -> Iterator[FauxFournisseurSms]:
    """The process's fake SMS provider, reset before and after the test."""
    faux = partage()
    faux.reinitialiser()
    yield faux
    faux.reinitialiser()


@contextmanager
def sous_processus(port: int | None = None) -> Iterator[str]:
    """The fake in another process (`python -m tests.fakes.fournisseur_sms`); yields its URL."""
    port = port or port_libre()
    processus = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.fournisseur_sms", "--port", str(port)],
        cwd=Path(__file__).resolve().parents[2],
    )
    url = f"http://127.0.0.1:{port}"
    try:
        limite = time.monotonic() + 10
        while True:
            try:
                httpx.get(url + "/_fake/etat", timeout=1)
                break
            except httpx.TransportError:
                if processus.poll() is not None or time.monotonic() > limite:
                    raise RuntimeError("le faux fournisseur n'a pas démarré") from None
                time.sleep(0.05)
        yield url
    finally:
        processus.terminate()
        processus.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--cle-smsfactor", default=CLE_SMSFACTOR)
    parser.add_argument("--cle-brevo", default=CLE_BREVO)
    parser.add_argument("--secret-webhook", default=SECRET_WEBHOOK)
    args = parser.parse_args()
    faux = FauxFournisseurSms(
        port=args.port,
        cle_smsfactor=args.cle_smsfactor,
        cle_brevo=args.cle_brevo,
        secret_webhook=args.secret_webhook,
    )
    with faux:
        print(f"faux fournisseur SMS sur {faux.url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

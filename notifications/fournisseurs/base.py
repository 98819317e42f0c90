"""The interface every provider implements, and the errors that drive retries.

The outbox worker calls `envoyer` once per claimed message. What comes back
decides what happens next:

- a `Resultat`: the provider accepted the message (its id is kept for delivery
  reports);
- `ErreurTemporaire` (timeout, connection refused, 5xx, 429): try again later,
  after `retry_after` seconds when the provider said so, else with backoff.
  `incertain` is true when the request may have reached the provider before
  it failed (a read timeout, a dropped connection, a 5xx): the provider may
  have accepted the message, so the next try should `retrouver` it first;
  false when it surely did not (connection refused, 429, 503 at the door);
- `ErreurDefinitive` (invalid number, refused content, bad credentials): never
  retried; the message is marked "échec" with the reason.

`retrouver` is how a message that was in flight when the process died is
reconciled instead of being sent blindly a second time: each message carries
our own `reference`, and the provider is asked whether it received it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol
from zoneinfo import ZoneInfo

import phonenumbers

from plateforme.errors import Invalid
from plateforme.telephones import mobile_e164


@dataclass(frozen=True, slots=True)
class MessageSortant:
    # Our unique id for this message ("msg-1234-a1b2c3"): sent to the provider so
    # that it can tell us later whether it got it, and echoed in delivery reports.
    reference: str
    # E.164 phone number for SMS, address for e-mail.
    destinataire: str
    texte: str
    # SMS: the territoire's sender name (11 characters at most); e-mail: From.
    expediteur: str
    sujet: str = ""
    # E-mail attachments: (file name, MIME type, content).
    pieces_jointes: tuple[tuple[str, str, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class Resultat:
    fournisseur_id: str | None
    # Segments the provider billed, when it says (else our own count is kept).
    segments: int | None = None


class ErreurFournisseur(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ErreurTemporaire(ErreurFournisseur):
    def __init__(
        self, message: str, *, retry_after: float | None = None, incertain: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        # The provider may have accepted the message (see the module docstring).
        self.incertain = incertain


class ErreurDefinitive(ErreurFournisseur):
    pass


class NonVerifiable(ErreurFournisseur):
    """The provider cannot say whether it received a message (no look-up API)."""


@dataclass(frozen=True, slots=True)
class Accuse:
    """A delivery report, as read from a provider's webhook."""

    fournisseur_id: str | None
    reference: str | None
    # "delivre" or "echec"; anything else ("en cours") is ignored.
    statut: str
    erreur: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MessageEntrant:
    """An SMS sent by a person to the service (e.g. STOP), from the inbound webhook."""

    telephone: str  # E.164
    texte: str
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Requete:
    """What a webhook handler passes to a provider: enough to check the signature and parse."""

    methode: str
    chemin: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    corps: bytes
    extra: dict[str, str] = field(default_factory=dict)


class WebhookRefuse(Exception):
    """Bad signature or credentials, or a body that cannot be read: 401/400, logged."""


class FournisseurSms(Protocol):
    nom: str

    async def envoyer(self, message: MessageSortant) -> Resultat: ...

    async def retrouver(self, message: MessageSortant) -> Resultat | None:
        """What the provider knows of this reference: its Resultat, None if it never got it,
        or NonVerifiable."""
        ...

    def lire_accuses(self, requete: Requete) -> list[Accuse]:
        """Authenticate and parse a delivery-report webhook (raises WebhookRefuse)."""
        ...

    def lire_entrants(self, requete: Requete) -> list[MessageEntrant]:
        """Authenticate and parse an inbound-SMS (STOP) webhook (raises WebhookRefuse)."""
        ...


class FournisseurEmail(Protocol):
    nom: str

    async def envoyer(self, message: MessageSortant) -> Resultat: ...

    async def retrouver(self, message: MessageSortant) -> Resultat | None:
        """As FournisseurSms.retrouver."""
        ...


# Helpers shared by the providers.


def masquer(destinataire: str) -> str:
    """+33612345678 -> +336…78; an address -> a…@domain. For logs, which never hold a full
    number or address."""
    if "@" in destinataire:
        nom, _, domaine = destinataire.partition("@")
        return f"{nom[:1]}…@{domaine}"
    return f"{destinataire[:4]}…{destinataire[-2:]}" if len(destinataire) > 6 else "…"


def secret_valide(recu: str | None, attendu: str) -> bool:
    """Constant-time comparison of a webhook secret; an empty expected secret accepts nothing."""
    if not attendu or recu is None:
        return False
    return hmac.compare_digest(recu.encode(), attendu.encode())


def telephone_e164(brut: str) -> str | None:
    """A number as providers write it ("33612345678", "+33 6...") in E.164, None if unreadable."""
    chiffres = "".join(c for c in brut if c.isdigit())
    if not chiffres:
        return None
    if brut.strip().startswith("0") and not brut.strip().startswith("00"):
        candidat = brut  # national format: mobile_e164 knows the overseas regions
    else:
        candidat = "+" + chiffres.removeprefix("00")
    try:
        return mobile_e164(candidat)
    except Invalid:
        pass
    try:
        numero = phonenumbers.parse(candidat, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(numero):
        return None
    return phonenumbers.format_number(numero, phonenumbers.PhoneNumberFormat.E164)


def date_fournisseur(valeur: object, *, fuseau: str = "Europe/Paris") -> datetime | None:
    """An instant from a webhook: ISO 8601 (a naive one is in the provider's `fuseau`), or
    epoch seconds; None when absent or unreadable (a bad date never rejects a report)."""
    if isinstance(valeur, bool) or valeur is None or valeur == "":
        return None
    if isinstance(valeur, int | float):
        secondes = valeur / 1000 if valeur > 10**11 else valeur
        try:
            return datetime.fromtimestamp(secondes, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(valeur, str):
        return None
    try:
        quand = datetime.fromisoformat(valeur.strip())
    except ValueError:
        return None
    if quand.tzinfo is None:
        quand = quand.replace(tzinfo=ZoneInfo(fuseau))
    return quand.astimezone(UTC)


def lire_retry_after(valeur: str | None, *, maintenant: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (RFC 9110: seconds or an HTTP date)."""
    if not valeur:
        return None
    valeur = valeur.strip()
    try:
        return max(float(valeur), 0.0)
    except ValueError:
        pass
    try:
        quand = parsedate_to_datetime(valeur)
    except (TypeError, ValueError):
        return None
    if quand.tzinfo is None:
        quand = quand.replace(tzinfo=UTC)
    return max((quand - (maintenant or datetime.now(UTC))).total_seconds(), 0.0)

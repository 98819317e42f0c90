"""E-mail through an SMTP relay (aiosmtplib): confirmations with their .ics invitations.

The message carries our reference twice: as its `Message-ID` (`<reference@domain>`, so a
copy sent again after a crash is the same message to mail clients that de-duplicate) and
as `X-Rdv-Reference` (what a bounce or a support ticket quotes). An `.ics` attachment is a
`text/calendar; method=REQUEST` part (or the method its MIME type or its METHOD line gives,
CANCEL for a cancellation), which mail clients show as an invitation.

SMTP answers: 5xx is final (unknown recipient, refused sender, bad credentials), and so is
what client and relay cannot agree on (STARTTLS required but not offered); 4xx, timeouts
and lost connections are temporary. A timeout or a
cut connection after DATA may come after the relay queued the message, hence `incertain`.
There is no look-up: an SMTP relay cannot say what it received.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage, Message
from email.policy import SMTP as POLITIQUE_SMTP
from email.utils import formatdate, parseaddr

import aiosmtplib

from notifications.fournisseurs.base import (
    ErreurDefinitive,
    ErreurTemporaire,
    MessageSortant,
    NonVerifiable,
    Resultat,
    masquer,
)

logger = logging.getLogger(__name__)


def type_mime(mime: str) -> tuple[str, str, dict[str, str]]:
    """ "text/calendar; method=REQUEST" -> ("text", "calendar", {"method": "REQUEST"})."""
    entete = Message()
    entete["Content-Type"] = mime or "application/octet-stream"
    params = {cle.lower(): valeur for cle, valeur in (entete.get_params() or [])[1:]}
    return entete.get_content_maintype(), entete.get_content_subtype(), params


def methode_ics(contenu: bytes) -> str:
    """The METHOD line of a calendar (REQUEST when it has none)."""
    for ligne in contenu.decode("utf-8", "replace").splitlines():
        if ligne.upper().startswith("METHOD:"):
            return ligne.partition(":")[2].strip().upper() or "REQUEST"
    return "REQUEST"


class Smtp:
    """A `FournisseurEmail` over one SMTP relay."""

    nom = "smtp"

    def __init__(
        self,
        *,
        hote: str,
        port: int = 587,
        utilisateur: str = "",
        mot_de_passe: str = "",
        starttls: bool = True,
        tls: bool = False,
        timeout: float = 10.0,
        domaine: str = "",
    ) -> None:
        self._hote = hote
        self._port = port
        self._utilisateur = utilisateur
        self._mot_de_passe = mot_de_passe
        # Implicit TLS (port 465) and STARTTLS exclude each other.
        self._starttls = starttls and not tls
        self._tls = tls
        self._timeout = timeout
        self._domaine = domaine

    def __repr__(self) -> str:
        return f"Smtp(hote={self._hote!r}, port={self._port}, starttls={self._starttls})"

    def composer(self, message: MessageSortant) -> EmailMessage:
        courriel = EmailMessage(policy=POLITIQUE_SMTP)
        courriel["From"] = message.expediteur
        courriel["To"] = message.destinataire
        courriel["Subject"] = message.sujet
        courriel["Date"] = formatdate(usegmt=True)
        courriel["Message-ID"] = f"<{message.reference}@{self._domaine_de(message.expediteur)}>"
        courriel["X-Rdv-Reference"] = message.reference
        # RFC 3834: no vacation auto-replies to an automatic message.
        courriel["Auto-Submitted"] = "auto-generated"
        courriel.set_content(message.texte)
        for nom, mime, contenu in message.pieces_jointes:
            principal, secondaire, params = type_mime(mime)
            if (principal, secondaire) == ("text", "calendar"):
                params.setdefault("method", methode_ics(contenu))
                params.setdefault("charset", "utf-8")
            courriel.add_attachment(
                contenu, maintype=principal, subtype=secondaire, filename=nom, params=params
            )
        return courriel

    async def retrouver(self, message: MessageSortant) -> Resultat | None:
        """A relay cannot be asked: sent again, the copy has the same Message-ID."""
        raise NonVerifiable("un relais SMTP ne dit pas ce qu'il a reçu")

    async def envoyer(self, message: MessageSortant) -> Resultat:
        courriel = self.composer(message)
        try:
            await aiosmtplib.send(
                courriel,
                hostname=self._hote,
                port=self._port,
                username=self._utilisateur or None,
                password=self._mot_de_passe or None,
                start_tls=self._starttls,
                use_tls=self._tls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            refus = error.recipients[0] if error.recipients else None
            code, texte = (refus.code, refus.message) if refus else (550, "refusé")
            raise self._erreur(code, f"destinataire refusé : {texte}") from error
        except aiosmtplib.SMTPConnectError as error:
            raise ErreurTemporaire(f"relais SMTP injoignable ({error})") from error
        except (aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPServerDisconnected) as error:
            raise ErreurTemporaire(
                f"relais SMTP : {type(error).__name__}", incertain=True
            ) from error
        except aiosmtplib.SMTPResponseException as error:
            raise self._erreur(error.code, error.message) from error
        except aiosmtplib.SMTPException as error:
            # What the client and the relay cannot agree on (STARTTLS or an authentication
            # method not offered): a configuration to fix, not a message to retry.
            raise ErreurDefinitive(f"relais SMTP : {error}") from error
        except OSError as error:
            raise ErreurTemporaire(f"relais SMTP : {error}", incertain=True) from error
        logger.debug("e-mail %s envoyé à %s", message.reference, masquer(message.destinataire))
        return Resultat(courriel["Message-ID"].strip("<>"))

    def _erreur(self, code: int, texte: str) -> ErreurDefinitive | ErreurTemporaire:
        raison = f"relais SMTP : {code} {texte}".strip()
        if 400 <= code < 500:
            return ErreurTemporaire(raison)
        return ErreurDefinitive(raison)

    def _domaine_de(self, expediteur: str) -> str:
        adresse = parseaddr(expediteur)[1]
        return self._domaine or adresse.partition("@")[2] or self._hote

"""The "log" provider, default of `make run`: one log line per message, nothing sent.

It plays both roles (SMS and e-mail). The phone number or address is masked; the text is
written only when asked (`afficher_texte`, on in development so that a developer can
follow the link of a confirmation), never in production.

`retrouver` answers None: the log keeps no record, so after a crash a message that was in
flight is written to the log a second time. That is harmless — nobody receives anything —
and it is exactly what a real provider's "never got it" leads to, so the outbox's
reconciliation path runs the same in development as in production.

It has no webhooks: any delivery report or inbound SMS addressed to it is refused.
"""

from __future__ import annotations

import logging

from notifications.fournisseurs.base import (
    Accuse,
    MessageEntrant,
    MessageSortant,
    Requete,
    Resultat,
    WebhookRefuse,
    masquer,
)

logger = logging.getLogger(__name__)


class Journal:
    """A `FournisseurSms` and `FournisseurEmail` that writes to the log."""

    nom = "log"

    def __init__(
        self, *, canal: str = "sms", afficher_texte: bool = False, journal: logging.Logger = logger
    ) -> None:
        self.canal = canal
        self._afficher_texte = afficher_texte
        self._journal = journal

    def __repr__(self) -> str:
        return f"Journal(canal={self.canal!r})"

    async def envoyer(self, message: MessageSortant) -> Resultat:
        pieces = ", ".join(nom for nom, _, _ in message.pieces_jointes)
        self._journal.info(
            "%s %s → %s de %s%s : %d caractères%s%s",
            self.canal.upper(),
            message.reference,
            masquer(message.destinataire),
            message.expediteur,
            f" « {message.sujet} »" if message.sujet else "",
            len(message.texte),
            f", pièces jointes : {pieces}" if pieces else "",
            f"\n{message.texte}" if self._afficher_texte else "",
        )
        return Resultat(f"log-{message.reference}")

    async def retrouver(self, message: MessageSortant) -> Resultat | None:
        return None

    def lire_accuses(self, requete: Requete) -> list[Accuse]:
        raise WebhookRefuse("le fournisseur « log » n'a pas de webhook")

    def lire_entrants(self, requete: Requete) -> list[MessageEntrant]:
        raise WebhookRefuse("le fournisseur « log » n'a pas de webhook")

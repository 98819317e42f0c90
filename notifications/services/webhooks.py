"""What the providers tell us: delivery reports and inbound SMS (STOP).

The provider authenticates and parses the request (its `lire_accuses` /
`lire_entrants`); a refusal is logged without the body and answered 401, and
a report about a message we do not know is logged and answered 404: nothing
changes in either case.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from notifications.fournisseurs.base import (
    Accuse,
    MessageEntrant,
    Requete,
    WebhookRefuse,
    masquer,
)
from notifications.services import sortie
from notifications.tables import Canal, Message, OppositionSms, StatutMessage
from plateforme.db import is_unique_violation, write_transaction
from plateforme.errors import NotAuthenticated, NotFound
from rdv.tables import Usager

logger = logging.getLogger(__name__)

MOTS_STOP = {"STOP", "STOPSMS", "ARRET", "ARRETSMS", "UNSUBSCRIBE"}


class SignatureInvalide(NotAuthenticated):
    code = "signature_invalide"
    default_message = "Signature du webhook invalide."


@dataclass
class Bilan:
    traites: int = 0
    inconnus: int = 0


def est_stop(texte: str) -> bool:
    mot = "".join(c for c in texte.upper() if c.isalpha())
    return mot in MOTS_STOP


async def _fournisseur(territoire_id: int, nom: str) -> object:
    from notifications.fournisseurs import registre

    try:
        p = await sortie.parametres(territoire_id)
    except LookupError as error:
        raise NotFound("Territoire inconnu.", code="territoire_inconnu") from error
    if p.fournisseur_sms != nom:
        raise NotFound(
            "Ce fournisseur n'est pas celui de ce territoire.", code="fournisseur_inconnu"
        )
    return registre.pour(p, Canal.sms)


async def accuses(territoire_id: int, nom: str, requete: Requete) -> Bilan:
    fournisseur = await _fournisseur(territoire_id, nom)
    try:
        lus: list[Accuse] = fournisseur.lire_accuses(requete)
    except WebhookRefuse as error:
        logger.warning("accusé de %s refusé (territoire %s) : %s", nom, territoire_id, error)
        raise SignatureInvalide() from error
    bilan = Bilan()
    maintenant = datetime.now(UTC)
    async with write_transaction():
        for accuse in lus:
            if accuse.statut not in ("delivre", "echec"):
                continue
            query = Message.select(Message.id, Message.statut).where(
                Message.territoire == territoire_id
            )
            if accuse.reference:
                query = query.where(Message.reference == accuse.reference)
            elif accuse.fournisseur_id:
                query = query.where(Message.fournisseur_id == accuse.fournisseur_id)
            else:
                bilan.inconnus += 1
                continue
            row = await query.first()
            if row is None:
                bilan.inconnus += 1
                logger.warning(
                    "accusé de %s pour un message inconnu (%s)",
                    nom,
                    accuse.reference or accuse.fournisseur_id,
                )
                continue
            values: dict[object, object] = {}
            if accuse.statut == "delivre":
                values = {
                    Message.statut: StatutMessage.delivre,
                    Message.delivre_at: accuse.at or maintenant,
                }
            else:
                values = {
                    Message.statut: StatutMessage.echec,
                    Message.derniere_erreur: accuse.erreur or "non distribué",
                }
            # A report may arrive before our own "sent" is recorded: both orders end delivered.
            await Message.update(values).where(  # type: ignore[arg-type]
                Message.id == row["id"],
                Message.statut.is_in(
                    [StatutMessage.en_cours, StatutMessage.envoye, StatutMessage.delivre]
                ),
            )
            bilan.traites += 1
    if lus and bilan.traites == 0 and bilan.inconnus:
        raise NotFound("Message inconnu.", code="message_inconnu")
    return bilan


async def entrants(territoire_id: int, nom: str, requete: Requete) -> Bilan:
    """STOP from a number: no more SMS to it from this territoire, queued ones cancelled."""
    fournisseur = await _fournisseur(territoire_id, nom)
    try:
        lus: list[MessageEntrant] = fournisseur.lire_entrants(requete)
    except WebhookRefuse as error:
        logger.warning("SMS entrant de %s refusé (territoire %s) : %s", nom, territoire_id, error)
        raise SignatureInvalide() from error
    bilan = Bilan()
    for entrant in lus:
        if not est_stop(entrant.texte):
            continue
        await opposer(territoire_id, entrant.telephone, entrant.at)
        logger.info("STOP reçu de %s (territoire %s)", masquer(entrant.telephone), territoire_id)
        bilan.traites += 1
    return bilan


async def opposer(territoire_id: int, telephone: str, at: datetime | None = None) -> None:
    async with write_transaction():
        if not await OppositionSms.exists().where(
            OppositionSms.territoire == territoire_id, OppositionSms.telephone == telephone
        ):
            try:
                await OppositionSms(
                    territoire=territoire_id, telephone=telephone, at=at or datetime.now(UTC)
                ).save()
            except Exception as error:
                if not is_unique_violation(error):
                    raise
        # The agents see it next to the number in their agenda.
        await Usager.update({Usager.sms_refuse_at: at or datetime.now(UTC)}).where(
            Usager.territoire == territoire_id,
            Usager.telephone == telephone,
            Usager.sms_refuse_at.is_null(),
        )
        await Message.update(
            {Message.statut: StatutMessage.annule, Message.derniere_erreur: "STOP"}
        ).where(
            Message.territoire == territoire_id,
            Message.destinataire == telephone,
            Message.canal == Canal.sms,
            Message.statut == StatutMessage.en_attente,
        )

"""Personal data does not stay forever (run daily by the scheduler; idempotent).

- Usagers whose last rdv ended more than `RETENTION_RDV_JOURS` ago (default two
  years, as RDV Solidarités) lose their name, phone, e-mail and birth date; the
  rdvs, their statuses and their history stay, so the indicators keep counting.
  A usager with a recent or coming rdv, or a relative of one, is kept.
- Message texts, recipients and invitations older than
  `RETENTION_MESSAGES_JOURS` (default six months) are blanked; status, kind,
  provider, segments and dates stay for the counts.
- Queue tickets' phone numbers go at the end of their day (`file_attente.services.cloture`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from notifications.tables import Message, StatutMessage
from plateforme.db import write_transaction
from plateforme.settings import get_settings
from rdv.tables import RdvParticipant, Usager

ANONYME = "Anonyme"


@dataclass
class RapportRetention:
    usagers: int = 0
    messages: int = 0


async def appliquer(maintenant: datetime | None = None) -> RapportRetention:
    maintenant = maintenant or datetime.now(UTC)
    settings = get_settings()
    rapport = RapportRetention()
    limite_rdv = maintenant - timedelta(days=settings.retention_rdv_jours)
    limite_messages = maintenant - timedelta(days=settings.retention_messages_jours)
    async with write_transaction():
        recents = RdvParticipant.select(RdvParticipant.usager).where(
            RdvParticipant.rdv.fin >= limite_rdv
        )
        anciens = RdvParticipant.select(RdvParticipant.usager).where(
            RdvParticipant.rdv.fin < limite_rdv
        )
        gardes = Usager.select(Usager.responsable).where(
            Usager.responsable.is_not_null(), Usager.id.is_in(recents)
        )
        done = (
            await Usager.update(
                {
                    Usager.prenom: ANONYME,
                    Usager.nom: ANONYME,
                    Usager.recherche: "",
                    Usager.telephone: "",
                    Usager.email: "",
                    Usager.date_naissance: None,
                }
            )
            .where(
                Usager.id.is_in(anciens),
                Usager.id.not_in(recents),
                Usager.id.not_in(gardes),
                Usager.nom != ANONYME,
            )
            .returning(Usager.id)
        )
        rapport.usagers = len(done)
        blanked = (
            await Message.update(
                {
                    Message.texte: "",
                    Message.destinataire: "",
                    Message.sujet: "",
                    Message.ics: "",
                    Message.anonymise: True,
                }
            )
            .where(
                Message.created_at < limite_messages,
                Message.anonymise.eq(False),
                # A reminder booked long ahead is still to be sent.
                Message.statut.not_in([StatutMessage.en_attente, StatutMessage.en_cours]),
            )
            .returning(Message.id)
        )
        rapport.messages = len(blanked)
    return rapport

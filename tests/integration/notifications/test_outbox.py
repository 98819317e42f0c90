"""The outbox worker on the database, with an in-process provider double: each message is
claimed by one worker only, retried on passing errors, given up on final ones, expired
when useless, kept out of the quiet hours, and reconciled (not resent) after a crash."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notifications.fournisseurs.base import (
    ErreurDefinitive,
    ErreurTemporaire,
    MessageSortant,
    Resultat,
)
from notifications.services import envoi, sortie
from notifications.tables import Canal, Message, OppositionSms
from plateforme.db import write_transaction
from tests import factories

PARIS = ZoneInfo("Europe/Paris")


class Double:
    """Records what it is asked to send; can fail on demand."""

    nom = "double"

    def __init__(self) -> None:
        self.envoyes: list[str] = []
        self.temporaires = 0
        self.definitif: set[str] = set()
        self.connus: set[str] = set()

    async def envoyer(self, message: MessageSortant) -> Resultat:
        await asyncio.sleep(0.001)
        if self.temporaires > 0:
            self.temporaires -= 1
            raise ErreurTemporaire("503 du fournisseur", retry_after=None)
        if message.destinataire in self.definitif:
            raise ErreurDefinitive("numéro invalide")
        self.envoyes.append(message.reference)
        return Resultat(fournisseur_id=f"p-{message.reference}")

    async def retrouver(self, message: MessageSortant) -> Resultat | None:
        if message.reference in self.connus:
            return Resultat(fournisseur_id=f"p-{message.reference}")
        return None


async def ecrire_messages(n: int, du_at: datetime, **values: Any) -> tuple[Any, list[str]]:
    territoire = await factories.territoire()
    p = await sortie.parametres(territoire.id)
    cles = []
    async with write_transaction():
        for i in range(n):
            cle = f"test:{territoire.id}:{i}"
            await sortie.ecrire(
                p,
                canal=Canal.sms,
                genre="test",
                destinataire=values.get("destinataire", f"+3361234{i:04d}"),
                texte="Bonjour",
                cle=cle,
                du_at=du_at,
                urgent=values.get("urgent", True),
                expire_at=values.get("expire_at"),
            )
            cles.append(cle)
    return territoire, cles


async def statuts(territoire: Any) -> dict[str, int]:
    rows = await Message.select(Message.statut).where(Message.territoire == territoire.id)
    result: dict[str, int] = {}
    for row in rows:
        result[row["statut"]] = result.get(row["statut"], 0) + 1
    return result


def resolveur(double: Double) -> Any:
    async def resoudre(_p: Any, _canal: str) -> Double:
        return double

    return resoudre


async def test_a_key_is_written_once() -> None:
    maintenant = datetime.now(UTC)
    territoire, cles = await ecrire_messages(3, maintenant)
    p = await sortie.parametres(territoire.id)
    async with write_transaction():
        again = await sortie.ecrire(
            p,
            canal=Canal.sms,
            genre="test",
            destinataire="+33612340000",
            texte="x",
            cle=cles[0],
            du_at=maintenant,
        )
    assert again is False
    assert await Message.count().where(Message.territoire == territoire.id) == 3


async def test_concurrent_workers_send_each_message_once() -> None:
    maintenant = datetime.now(UTC) - timedelta(seconds=1)
    territoire, _ = await ecrire_messages(300, maintenant)
    double = Double()
    await asyncio.gather(
        *(envoi.traiter_lot(resoudre=resolveur(double), limite=60) for _ in range(6))
    )
    await envoi.vider(resoudre=resolveur(double))
    mine = {
        r["reference"]
        for r in await Message.select(Message.reference).where(Message.territoire == territoire.id)
    }
    sent = [r for r in double.envoyes if r in mine]
    assert len(sent) == 300 and len(set(sent)) == 300
    assert await statuts(territoire) == {"envoye": 300}


class DoubleFacturant(Double):
    """Bills two segments for every third message, says nothing of the others."""

    async def envoyer(self, message: MessageSortant) -> Resultat:
        resultat = await super().envoyer(message)
        if int(message.destinataire[-4:]) % 3 == 0:
            return Resultat(fournisseur_id=resultat.fournisseur_id, segments=2)
        return resultat


async def test_each_sent_message_records_its_own_provider_id_time_and_segments() -> None:
    avant = datetime.now(UTC)
    territoire, _ = await ecrire_messages(130, avant - timedelta(seconds=1))
    # Some were in doubt after a timeout: looked up (unknown), then sent.
    await Message.update({Message.a_verifier: True}).where(
        Message.territoire == territoire.id, Message.destinataire.like("%5")
    )
    double = DoubleFacturant()
    await envoi.vider(resoudre=resolveur(double))
    rows = await Message.select().where(Message.territoire == territoire.id)
    apres = datetime.now(UTC)
    assert len(rows) == 130
    for row in rows:
        assert row["statut"] == "envoye" and row["fournisseur"] == "double"
        assert row["fournisseur_id"] == f"p-{row['reference']}"
        assert avant <= row["envoye_at"] <= apres and row["a_verifier"] is False
        billed = 2 if int(row["destinataire"][-4:]) % 3 == 0 else 1
        assert row["segments"] == billed, row["destinataire"]


async def test_passing_errors_are_retried_later_and_final_ones_are_not() -> None:
    maintenant = datetime.now(UTC) - timedelta(seconds=1)
    territoire, _ = await ecrire_messages(1, maintenant, destinataire="+33699999999")
    double = Double()
    double.temporaires = 10_000  # down
    await envoi.traiter_lot(maintenant, resoudre=resolveur(double))
    row = await Message.select().where(Message.territoire == territoire.id).first()
    assert row["statut"] == "en_attente" and row["tentatives"] == 1
    assert row["du_at"] > maintenant + timedelta(seconds=20)  # backoff, not a hot loop
    assert "503" in row["derniere_erreur"]
    # Back up an hour later: sent once.
    double.temporaires = 0
    await envoi.vider(maintenant + timedelta(hours=1), resoudre=resolveur(double))
    assert await statuts(territoire) == {"envoye": 1}
    assert double.envoyes.count(row["reference"]) == 1

    territoire, _ = await ecrire_messages(1, maintenant, destinataire="+33600000000")
    double.definitif.add("+33600000000")
    await envoi.vider(maintenant, resoudre=resolveur(double))
    row = await Message.select().where(Message.territoire == territoire.id).first()
    assert (row["statut"], row["tentatives"], row["derniere_erreur"]) == (
        "echec",
        1,
        "numéro invalide",
    )


async def test_useless_messages_expire_instead_of_going_out() -> None:
    maintenant = datetime.now(UTC)
    territoire, _ = await ecrire_messages(
        2, maintenant - timedelta(hours=3), expire_at=maintenant - timedelta(minutes=5)
    )
    double = Double()
    await envoi.vider(maintenant, resoudre=resolveur(double))
    assert await statuts(territoire) == {"expire": 2}


async def test_quiet_hours_hold_back_what_is_not_urgent() -> None:
    night = datetime(2026, 12, 2, 22, 30, tzinfo=PARIS)
    territoire, _ = await ecrire_messages(1, night - timedelta(minutes=1), urgent=False)
    double = Double()
    await envoi.vider(night, resoudre=resolveur(double))
    row = await Message.select().where(Message.territoire == territoire.id).first()
    assert row["statut"] == "en_attente"
    assert row["du_at"].astimezone(PARIS) == datetime(2026, 12, 3, 8, 0, tzinfo=PARIS)
    await envoi.vider(datetime(2026, 12, 3, 8, 0, 5, tzinfo=PARIS), resoudre=resolveur(double))
    assert await statuts(territoire) == {"envoye": 1}


async def test_a_stop_after_writing_cancels_that_number_in_that_territoire_only() -> None:
    maintenant = datetime.now(UTC)
    territoire, _ = await ecrire_messages(30, maintenant)
    autre = await factories.territoire()
    # STOP from the 4th number here, and from the 5th to another territoire only.
    await OppositionSms(territoire=territoire.id, telephone="+33612340003").save()
    await OppositionSms(territoire=autre.id, telephone="+33612340004").save()
    double = Double()
    rapport = await envoi.vider(maintenant, resoudre=resolveur(double))
    assert await statuts(territoire) == {"envoye": 29, "annule": 1}
    assert rapport.annules >= 1
    (annule,) = await Message.select(Message.destinataire, Message.reference).where(
        Message.territoire == territoire.id, Message.statut == "annule"
    )
    assert annule["destinataire"] == "+33612340003"
    sent = [r for r in double.envoyes if r in await mine(territoire)]
    assert len(sent) == 29 and annule["reference"] not in sent


async def test_stop_cancels_what_was_queued() -> None:
    maintenant = datetime.now(UTC)
    territoire, _ = await ecrire_messages(1, maintenant, destinataire="+33611111111")
    await OppositionSms(territoire=territoire.id, telephone="+33611111111").save()
    double = Double()
    await envoi.vider(maintenant, resoudre=resolveur(double))
    assert await statuts(territoire) == {"annule": 1}
    p = await sortie.parametres(territoire.id)
    async with write_transaction():
        written = await sortie.ecrire(
            p,
            canal=Canal.sms,
            genre="test",
            destinataire="+33611111111",
            texte="x",
            cle=f"test:{territoire.id}:after",
            du_at=maintenant,
        )
    assert written is False


async def test_a_crash_mid_send_is_reconciled_not_resent() -> None:
    maintenant = datetime.now(UTC) - timedelta(seconds=1)
    territoire, _ = await ecrire_messages(10, maintenant)
    claimed = [
        r for r in await envoi.reclamer(maintenant, limite=1000) if r["territoire"] == territoire.id
    ]
    assert len(claimed) == 10
    # The worker died after the provider accepted the first four.
    double = Double()
    double.connus = {r["reference"] for r in claimed[:4]}
    # Before the lease runs out, nobody touches them.
    await envoi.vider(maintenant + timedelta(seconds=30), resoudre=resolveur(double))
    assert await statuts(territoire) == {"en_cours": 10}
    later = maintenant + envoi.bail() + timedelta(seconds=5)
    await envoi.vider(later, resoudre=resolveur(double))
    assert await statuts(territoire) == {"envoye": 10}
    resent = [r for r in double.envoyes if r in {c["reference"] for c in claimed}]
    assert sorted(resent) == sorted(r["reference"] for r in claimed[4:])


# Faults of the worker itself ------------------------------------------------------------


async def mine(territoire: Any) -> set[str]:
    rows = await Message.select(Message.reference).where(Message.territoire == territoire.id)
    return {r["reference"] for r in rows}


async def test_a_message_that_cannot_be_reconciled_does_not_stop_the_outbox() -> None:
    maintenant = datetime.now(UTC) - timedelta(seconds=1)
    territoire, _ = await ecrire_messages(3, maintenant)
    claimed = [
        r for r in await envoi.reclamer(maintenant, limite=1000) if r["territoire"] == territoire.id
    ]
    # The worker died with them in flight; then more messages came due.
    fresh, _ = await ecrire_messages(5, maintenant)

    class Capricieux(Double):
        async def retrouver(self, message: MessageSortant) -> Resultat | None:
            if message.reference == claimed[0]["reference"]:
                raise RuntimeError("réponse illisible")
            return await super().retrouver(message)

    double = Capricieux()
    later = maintenant + envoi.bail() + timedelta(seconds=5)
    await envoi.vider(later, resoudre=resolveur(double))
    assert await statuts(fresh) == {"envoye": 5}
    # The unreadable one stays claimed, to be tried again; the others were sent once.
    assert await statuts(territoire) == {"envoye": 2, "en_cours": 1}
    sent = [r for r in double.envoyes if r in await mine(territoire)]
    assert sorted(sent) == sorted(r["reference"] for r in claimed[1:])


async def test_results_whose_write_failed_are_written_by_the_next_transaction(
    monkeypatch: Any,
) -> None:
    maintenant = datetime.now(UTC) - timedelta(seconds=1)
    territoire, _ = await ecrire_messages(120, maintenant)
    ecrire = envoi._ecrire_envoyes
    failures = [RuntimeError("connexion à la base perdue")]

    async def flaky(*args: Any) -> None:
        if failures:
            raise failures.pop()
        await ecrire(*args)

    monkeypatch.setattr(envoi, "_ecrire_envoyes", flaky)
    double = Double()
    with pytest.raises(RuntimeError, match="connexion"):
        await envoi.traiter_lot(resoudre=resolveur(double))
    # Nothing waits for a reconciliation: the sends in flight ended and every result was
    # written after the failed transaction; the rest goes out with the next batch.
    assert "en_cours" not in await statuts(territoire)
    await envoi.vider(resoudre=resolveur(double))
    assert await statuts(territoire) == {"envoye": 120}
    sent = [r for r in double.envoyes if r in await mine(territoire)]
    assert len(sent) == 120 and len(set(sent)) == 120


async def test_a_delivery_report_before_the_sent_result_is_kept_and_completed() -> None:
    maintenant = datetime.now(UTC) - timedelta(seconds=1)
    territoire, _ = await ecrire_messages(1, maintenant)

    class RapporteurRapide(Double):
        async def envoyer(self, message: MessageSortant) -> Resultat:
            resultat = await super().envoyer(message)
            # The provider's webhook, faster than our own write.
            await Message.update(
                {Message.statut: "delivre", Message.delivre_at: datetime.now(UTC)}
            ).where(Message.reference == message.reference)
            return resultat

    await envoi.vider(resoudre=resolveur(RapporteurRapide()))
    row = await Message.select().where(Message.territoire == territoire.id).first()
    assert row["statut"] == "delivre"
    assert row["fournisseur_id"] == f"p-{row['reference']}" and row["envoye_at"] is not None


async def test_a_retry_after_of_zero_waits_for_the_next_batch() -> None:
    maintenant = datetime.now(UTC) - timedelta(seconds=1)
    territoire, _ = await ecrire_messages(3, maintenant)

    class Sature(Double):
        async def envoyer(self, message: MessageSortant) -> Resultat:
            self.temporaires += 1
            raise ErreurTemporaire("429", retry_after=0)

    double = Sature()
    await envoi.traiter_lot(resoudre=resolveur(double))
    rows = await Message.select(Message.tentatives).where(Message.territoire == territoire.id)
    assert [r["tentatives"] for r in rows] == [1, 1, 1]
    # What the scheduler runs stops too: a batch that sent nothing is not run again at once.
    await envoi.tour(resoudre=resolveur(double))
    rows = await Message.select(Message.tentatives).where(Message.territoire == territoire.id)
    assert all(r["tentatives"] <= 2 for r in rows)

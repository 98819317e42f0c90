"""Faults of the provider over real HTTP: a 500, a 429 with Retry-After, a timeout, a lost
answer, an hour of outage. Nothing is lost, nothing is sent twice, sending resumes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notifications.services import envoi, sortie
from notifications.tables import Canal, Message
from plateforme.db import write_transaction
from tests import factories
from tests.fakes import fixture_faux_fournisseur_sms  # noqa: F401
from tests.fakes.fournisseur_sms import FauxFournisseurSms
from tests.integration.notifications.outils import configurer_sms


async def messages(faux: FauxFournisseurSms, n: int, fournisseur: str = "smsfactor") -> Any:
    territoire = await factories.territoire()
    await configurer_sms(territoire, faux.url, fournisseur)
    p = await sortie.parametres(territoire.id)
    maintenant = datetime.now(UTC) - timedelta(seconds=1)
    async with write_transaction():
        for i in range(n):
            await sortie.ecrire(
                p,
                canal=Canal.sms,
                genre="test",
                destinataire=f"+3360000{i:04d}",
                texte=f"Message {i}",
                cle=f"panne:{territoire.id}:{i}",
                du_at=maintenant,
                urgent=True,
            )
    return territoire


async def etats(territoire: Any) -> dict[str, int]:
    result: dict[str, int] = {}
    for row in await Message.select(Message.statut).where(Message.territoire == territoire.id):
        result[row["statut"]] = result.get(row["statut"], 0) + 1
    return result


async def drain_until(territoire: Any, debut: datetime, heures: float = 3) -> None:
    """Run the worker as the scheduler would, moving the clock forward a minute at a time."""
    instant = debut
    while instant < debut + timedelta(hours=heures):
        await envoi.traiter_lot(instant)
        if (await etats(territoire)).get("envoye", 0) + (await etats(territoire)).get(
            "echec", 0
        ) == await Message.count().where(Message.territoire == territoire.id):
            return
        instant += timedelta(minutes=1)


@pytest.mark.parametrize("fournisseur", ["smsfactor", "brevo"])
async def test_errors_that_pass_are_retried_and_nothing_is_sent_twice(
    faux_fournisseur_sms: FauxFournisseurSms, fournisseur: str
) -> None:
    faux = faux_fournisseur_sms
    territoire = await messages(faux, 6, fournisseur)
    faux.echouer(2, code=500)
    faux.trop_de_requetes(1, retry_after=30)
    faux.perdre_reponses(1)
    faux.bloquer(1, duree=15, apres_reception=True)  # longer than the client's timeout
    await drain_until(territoire, datetime.now(UTC))
    assert await etats(territoire) == {"envoye": 6}
    assert len({r.reference for r in faux.recus}) == 6
    assert faux.doublons() == {}


async def test_an_hour_of_outage_loses_nothing_and_sending_resumes(
    faux_fournisseur_sms: FauxFournisseurSms,
) -> None:
    faux = faux_fournisseur_sms
    territoire = await messages(faux, 5)
    faux.panne("refus")
    debut = datetime.now(UTC)
    instant = debut
    while instant < debut + timedelta(hours=1):
        await envoi.traiter_lot(instant)
        instant += timedelta(minutes=2)
    assert await etats(territoire) == {"en_attente": 5}
    rows = await Message.select(Message.tentatives).where(Message.territoire == territoire.id)
    # Backoff: a handful of tries in the hour, not one a minute.
    assert all(2 <= r["tentatives"] <= 9 for r in rows), rows
    faux.retablir()
    await drain_until(territoire, instant, heures=2)
    assert await etats(territoire) == {"envoye": 5}
    assert faux.doublons() == {}


async def test_invalid_numbers_fail_for_good(faux_fournisseur_sms: FauxFournisseurSms) -> None:
    faux = faux_fournisseur_sms
    territoire = await factories.territoire()
    await configurer_sms(territoire, faux.url)
    p = await sortie.parametres(territoire.id)
    async with write_transaction():
        await sortie.ecrire(
            p,
            canal=Canal.sms,
            genre="test",
            destinataire="+3399",
            texte="x",
            cle=f"invalide:{territoire.id}",
            du_at=datetime.now(UTC) - timedelta(seconds=1),
            urgent=True,
        )
    await envoi.vider()
    row = await Message.select().where(Message.territoire == territoire.id).first()
    assert row["statut"] == "echec" and row["tentatives"] == 1 and row["derniere_erreur"]

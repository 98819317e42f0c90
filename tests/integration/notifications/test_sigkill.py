"""A worker process killed with SIGKILL in the middle of a batch: after a restart, every
message is sent exactly once. Those in flight at the kill are reconciled with the
provider (looked up by our reference), not blindly sent again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from notifications.services import sortie
from notifications.tables import Canal, Message
from plateforme.db import write_transaction
from tests import factories
from tests.fakes import fixture_faux_fournisseur_sms  # noqa: F401
from tests.fakes.fournisseur_sms import FauxFournisseurSms
from tests.integration.conftest import ROOT
from tests.integration.notifications.outils import configurer_sms

N = 120


def worker(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OUTBOX_BAIL_SECONDES": "2", "LOG_LEVEL": "WARNING"}
    return subprocess.Popen(
        [sys.executable, "-m", "plateforme", "envoyer", *args], cwd=ROOT, env=env
    )


@pytest.mark.parametrize("fournisseur", ["smsfactor", "brevo"])
async def test_sigkill_mid_batch_then_restart_sends_each_message_once(
    faux_fournisseur_sms: FauxFournisseurSms, fournisseur: str
) -> None:
    faux = faux_fournisseur_sms
    faux.latence(0.25)
    territoire = await factories.territoire()
    await configurer_sms(territoire, faux.url, fournisseur)
    p = await sortie.parametres(territoire.id)
    async with write_transaction():
        for i in range(N):
            await sortie.ecrire(
                p,
                canal=Canal.sms,
                genre="test",
                destinataire=f"+336100{i:05d}",
                texte=f"Rappel {i}",
                cle=f"kill:{territoire.id}:{i}",
                du_at=datetime.now(UTC) - timedelta(seconds=1),
                urgent=True,
            )

    process = worker("--intervalle", "0.2")
    deadline = time.monotonic() + 30
    # The fake records from its own thread: poll it. Once a quarter has gone out, the next
    # sends are accepted and then left hanging (the hard case: the provider has the message,
    # the worker never hears back), and the worker is killed while they hang.
    while len(faux.recus) < N // 4 and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    faux.bloquer(20, duree=5, apres_reception=True)

    async def en_cours() -> int:
        return await Message.count().where(
            Message.territoire == territoire.id, Message.statut == "en_cours"
        )

    while time.monotonic() < deadline:
        if await en_cours():
            await asyncio.sleep(0.3)
            if await en_cours():
                break
        await asyncio.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    got_before = len(faux.recus)
    assert 0 < got_before < N, "the kill must land mid-batch"
    in_flight = await Message.count().where(
        Message.territoire == territoire.id, Message.statut == "en_cours"
    )
    assert in_flight > 0

    faux.latence(0)
    await asyncio.sleep(2.5)  # past the claim's lease
    # The restarted worker runs as in production, until every message is sent (a passing
    # error on the way is retried after its backoff).
    restarted = worker("--intervalle", "0.2")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # noqa: ASYNC110 - another process does the work
            pending = await Message.count().where(
                Message.territoire == territoire.id, Message.statut != "envoye"
            )
            if pending == 0:
                break
            await asyncio.sleep(0.2)
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=10)
    left = await Message.select(Message.statut, Message.derniere_erreur).where(
        Message.territoire == territoire.id, Message.statut != "envoye"
    )
    assert left == []
    references = [r.reference for r in faux.recus]
    assert len(references) == N and len(set(references)) == N
    assert faux.doublons() == {}

"""Queue SMS over real HTTP: the fake provider receives "your turn" once per ticket, "your
turn is near" once, its delivery reports and STOP reach the real server's webhooks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from file_attente.tables import FileAttente
from notifications.services import envoi
from notifications.tables import Message, OppositionSms
from tests.fakes import fixture_faux_fournisseur_sms  # noqa: F401
from tests.fakes.fournisseur_sms import FauxFournisseurSms
from tests.integration.file_attente.conftest import site_avec_files
from tests.integration.notifications.outils import configurer_sms

P1, P2, P3 = "+33611000001", "+33611000002", "+33611000003"


async def prendre(client: httpx.AsyncClient, lieu: Any, telephone: str) -> dict[str, Any]:
    response = await client.post(
        "/api/borne/tickets",
        json={"file": lieu.file.id, "telephone": telephone},
        headers={"Authorization": f"Bearer {lieu.borne_jeton}"},
    )
    assert response.status_code == 201, response.text
    return response.json()


def recus(faux: FauxFournisseurSms) -> list[tuple[str, str]]:
    return [("+" + r.destinataire, r.texte) for r in faux.recus]


@pytest.mark.parametrize("fournisseur", ["smsfactor", "brevo"])
async def test_your_turn_and_turn_is_near_are_sent_once_each(
    client: httpx.AsyncClient,
    new_browser: Any,
    faux_fournisseur_sms: FauxFournisseurSms,
    fournisseur: str,
) -> None:
    lieu = await site_avec_files()
    await configurer_sms(lieu.territoire, faux_fournisseur_sms.url, fournisseur)
    await FileAttente.update({FileAttente.alerte_avant: 1}).where(FileAttente.id == lieu.file.id)
    tickets = [await prendre(client, lieu, p) for p in (P1, P2, P3)]
    agent = new_browser()
    await agent.sign_in(lieu.agents[0].email)
    guichet = lieu.guichets[0]
    await agent.post_json(f"/api/guichets/{guichet.id}/ouvrir", {"files": [lieu.file.id]})

    first = await agent.post_json(f"/api/guichets/{guichet.id}/appeler-suivant")
    await envoi.vider(resoudre=None)
    sent = recus(faux_fournisseur_sms)
    assert (
        P1,
        f"Ticket {tickets[0]['ticket']} : c'est votre tour ! Présentez-vous au guichet {guichet.nom}, {lieu.site.nom}.",
    ) in sent
    assert {p for p, t in sent if t.startswith("C'est bientot votre tour")} == {P2, P3}

    await agent.post_json(
        f"/api/guichets/{guichet.id}/tickets/{first.json()['ticket_id']}/terminer"
    )
    await agent.post_json(f"/api/guichets/{guichet.id}/appeler-suivant")
    await envoi.vider()
    sent = recus(faux_fournisseur_sms)
    assert [p for p, t in sent if "c'est votre tour !" in t] == [P1, P2]
    assert len(sent) == 4
    assert faux_fournisseur_sms.doublons() == {}
    rows = await Message.select(Message.statut, Message.segments, Message.fournisseur).where(
        Message.ticket.file_actuelle == lieu.file.id
    )
    assert {(r["statut"], r["segments"], r["fournisseur"]) for r in rows} == {
        ("envoye", 1, fournisseur)
    }


async def test_delivery_reports_and_stop_through_the_webhooks(
    server: str,
    client: httpx.AsyncClient,
    new_browser: Any,
    faux_fournisseur_sms: FauxFournisseurSms,
) -> None:
    lieu = await site_avec_files()
    await configurer_sms(lieu.territoire, faux_fournisseur_sms.url)
    await FileAttente.update({FileAttente.alerte_avant: 5}).where(FileAttente.id == lieu.file.id)
    for telephone in (P1, P2):
        await prendre(client, lieu, telephone)
    agent = new_browser()
    await agent.sign_in(lieu.agents[0].email)
    guichet = lieu.guichets[0]
    await agent.post_json(f"/api/guichets/{guichet.id}/ouvrir", {"files": [lieu.file.id]})
    await agent.post_json(f"/api/guichets/{guichet.id}/appeler-suivant")
    await envoi.vider()
    appel = (
        await Message.select()
        .where(Message.ticket.file_actuelle == lieu.file.id, Message.genre == "appel")
        .first()
    )
    assert appel is not None and appel["statut"] == "envoye"

    base = f"{server}/webhooks/sms/smsfactor/{lieu.territoire.id}"
    # A forged report changes nothing.
    forged = await faux_fournisseur_sms.aenvoyer_accuse(
        f"{base}/accuses", appel["reference"], secret="pas-le-bon"
    )
    assert forged == 401
    assert (await Message.select(Message.statut).where(Message.id == appel["id"]).first())[
        "statut"
    ] == "envoye"
    ok = await faux_fournisseur_sms.aenvoyer_accuse(f"{base}/accuses", appel["reference"])
    assert ok == 200
    row = (
        await Message.select(Message.statut, Message.delivre_at)
        .where(Message.id == appel["id"])
        .first()
    )
    assert row["statut"] == "delivre" and row["delivre_at"] is not None

    # STOP from P2: recorded for the territoire, and no more SMS to P2.
    stop = await faux_fournisseur_sms.aenvoyer_entrant(f"{base}/entrants", P2, "Stop")
    assert stop == 200
    assert await OppositionSms.exists().where(
        OppositionSms.territoire == lieu.territoire.id, OppositionSms.telephone == P2
    )
    before = len(faux_fournisseur_sms.recus)
    await prendre(client, lieu, P2)
    await agent.post_json(f"/api/guichets/{guichet.id}/tickets/{appel['ticket']}/terminer")
    await agent.post_json(f"/api/guichets/{guichet.id}/appeler-suivant")
    await envoi.vider()
    assert [r for r in faux_fournisseur_sms.recus[before:] if r.destinataire == P2[1:]] == []
    forged_stop = await faux_fournisseur_sms.aenvoyer_entrant(
        f"{base}/entrants", P1, "STOP", secret="pas-le-bon"
    )
    assert forged_stop == 401
    assert not await OppositionSms.exists().where(
        OppositionSms.territoire == lieu.territoire.id, OppositionSms.telephone == P1
    )

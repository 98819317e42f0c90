"""The admin's pages of the notifications: settings (never a key), messages per rdv and per
usager with their status, counts and segments per day and month; agents are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from notifications.services import sortie
from notifications.tables import Canal, Message, ParametresNotification
from plateforme.db import write_transaction
from tests import factories


async def test_settings_are_validated_and_saved_by_admins_only(new_browser: Any) -> None:
    territoire = await factories.territoire()
    admin = await factories.agent(territoire, role="admin")
    agent = await factories.agent(territoire)
    browser = new_browser()
    await browser.sign_in(admin.email)
    page = await browser.http.get("/admin/notifications")
    assert page.status_code == 200 and "Expéditeur affiché" in page.text

    bad = await browser.post_form(
        "/admin/notifications",
        {
            "expediteur": "Conseil départemental",
            "fournisseur_sms": "smsfactor",
            "cle_sms_env": "SECRET_KEY",
            "secret_webhook_env": "",
            "url_sms": "https://pirate.example",
            "fournisseur_email": "log",
            "email_expediteur": "",
            "rappels_heures": "48, deux",
            "silence_debut": "20h",
            "silence_fin": "08:00",
        },
    )
    assert bad.status_code == 422
    for message in (
        "De 3 à 11 lettres ou chiffres",
        "commençant par RDV_SMS_",
        "Obligatoire pour ce fournisseur",
        "Adresse non autorisée par l&#39;exploitant",
        "Des nombres d&#39;heures",
        "Heure invalide",
    ):
        assert message in bad.text, message
    assert not await ParametresNotification.exists().where(
        ParametresNotification.territoire == territoire.id
    )

    ok = await browser.post_form(
        "/admin/notifications",
        {
            "expediteur": "CD31",
            "fournisseur_sms": "smsfactor",
            "cle_sms_env": "RDV_SMS_SMSFACTOR_31",
            "secret_webhook_env": "RDV_SMS_SECRET_31",
            "url_sms": "",
            "fournisseur_email": "log",
            "email_expediteur": "",
            "rappels_heures": "2, 72",
            "silence_debut": "21:00",
            "silence_fin": "07:30",
        },
    )
    assert ok.status_code in (200, 303)
    p = await sortie.parametres(territoire.id)
    assert (p.expediteur, p.fournisseur_sms, p.rappels_heures) == ("CD31", "smsfactor", (72, 2))
    assert (str(p.silence_debut), str(p.silence_fin)) == ("21:00:00", "07:30:00")

    plain = new_browser()
    await plain.sign_in(agent.email)
    assert (await plain.http.get("/admin/notifications")).status_code == 403
    assert (await plain.http.get("/admin/messages")).status_code == 403
    refused = await plain.post_form("/admin/notifications", {"expediteur": "Pirate"})
    assert refused.status_code == 403


async def test_messages_per_rdv_and_counts_stay_within_the_territoire(new_browser: Any) -> None:
    territoire = await factories.territoire()
    autre = await factories.territoire()
    admin = await factories.agent(territoire, role="admin")
    maintenant = datetime.now(UTC)
    for t, numero in ((territoire, "+33612121212"), (autre, "+33698989898")):
        p = await sortie.parametres(t.id)
        usager = await factories.usager(t, telephone=numero)
        async with write_transaction():
            await sortie.ecrire(
                p,
                canal=Canal.sms,
                genre="rappel",
                destinataire=numero,
                texte="Rappel",
                cle=f"admin:{t.id}",
                du_at=maintenant,
                usager=usager.id,
            )
        await Message.update(
            {Message.statut: "echec", Message.derniere_erreur: "numéro invalide"}
        ).where(Message.cle == f"admin:{t.id}")
        if t is territoire:
            mine = usager
        else:
            theirs = usager
    browser = new_browser()
    await browser.sign_in(admin.email)
    page = await browser.http.get("/admin/messages", params={"usager": mine.id})
    assert page.status_code == 200
    assert "+33612121212" in page.text and "échec" in page.text and "numéro invalide" in page.text
    assert "+33698989898" not in page.text
    other = await browser.http.get("/admin/messages", params={"usager": theirs.id})
    assert "+33698989898" not in other.text and "Aucun message." in other.text
    today = datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
    assert f'<th scope="row">{today}</th><td>1</td>' in page.text

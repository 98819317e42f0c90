"""The rdv's messages end to end: a booking through the real server writes its confirmation
(SMS, and e-mail with the invitation) in the booking's transaction; the worker sends them
to the fake SMS Factor and a real SMTP server; reminders go out at the right local times
across the spring change; a cancellation or a move takes the pending ones back."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar

from notifications.services import envoi
from notifications.tables import Message, ParametresNotification
from rdv.tables import Rdv
from tests import factories
from tests.fakes import ServeurSmtp, fixture_faux_fournisseur_sms, fixture_serveur_smtp  # noqa: F401
from tests.fakes.fournisseur_sms import FauxFournisseurSms
from tests.integration.notifications.outils import configurer_sms

PARIS = ZoneInfo("Europe/Paris")
# The Tuesday after the spring change of 2027 (Sunday 28 March, 02:00 -> 03:00; Monday 29
# is Easter Monday, a public holiday).
MARDI_APRES_LE_CHANGEMENT = date(2027, 3, 30)


async def cabinet(faux: FauxFournisseurSms, serveur_smtp: ServeurSmtp | None = None) -> dict:
    territoire = await factories.territoire()
    service = await factories.service(territoire, code="pmi", nom="PMI")
    site = await factories.site(territoire, services=[service], nom="MDS de Colomiers")
    agent = await factories.agent(territoire, services=[service], sites=[site])
    motif = await factories.motif(service, delai_max_jours=400, delai_min_minutes=0)
    await factories.plage(
        agent, site, [motif], heure_debut="09:00", heure_fin="12:00", premier_jour=date.today()
    )
    await configurer_sms(territoire, faux.url)
    if serveur_smtp is not None:
        await ParametresNotification.update(
            {
                ParametresNotification.fournisseur_email: "smtp",
                ParametresNotification.email_expediteur: "rdv@cd99.fr",
            }
        ).where(ParametresNotification.territoire == territoire.id)
    return {"territoire": territoire, "site": site, "agent": agent, "motif": motif}


async def reserver(
    client: httpx.AsyncClient, c: dict, debut: datetime, email: str = ""
) -> dict[str, Any]:
    response = await client.post(
        "/api/rdv",
        json={
            "motif_id": c["motif"].id,
            "site_id": c["site"].id,
            "debut": debut.isoformat(),
            "usager": {
                "prenom": "Élodie",
                "nom": "Le Goff",
                "telephone": "06 12 34 56 78",
                "email": email,
            },
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def hors_silence() -> datetime:
    """Now, or the end of tonight's quiet hours (the confirmation is not urgent)."""
    local = datetime.now(PARIS)
    if local.hour >= 20:
        return (local + timedelta(days=1)).replace(hour=8, minute=0, second=5)
    if local.hour < 8:
        return local.replace(hour=8, minute=0, second=5)
    return local


async def messages(c: dict) -> list[dict[str, Any]]:
    return (
        await Message.select()
        .where(Message.territoire == c["territoire"].id)
        .order_by(Message.du_at)
        .order_by(Message.id)
    )


async def test_booking_sends_a_confirmation_sms_and_an_invitation_by_email(
    client: httpx.AsyncClient,
    faux_fournisseur_sms: FauxFournisseurSms,
    serveur_smtp: ServeurSmtp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMTP_URL", serveur_smtp.url)
    c = await cabinet(faux_fournisseur_sms, serveur_smtp)
    debut = factories.monday_at("10:00", weeks=2)
    rdv = await reserver(client, c, debut, email="elodie@exemple.fr")
    ecrits = await messages(c)
    assert {m["genre"] for m in ecrits} == {"confirmation", "rappel"}
    # Written in the booking's transaction, before any worker ran.
    assert all(m["statut"] == "en_attente" for m in ecrits)

    await envoi.vider(hors_silence())
    (sms,) = faux_fournisseur_sms.recus
    assert sms.destinataire == "33612345678" and sms.expediteur == "CD99"
    assert rdv["code"] in sms.texte and "/r/" + rdv["code"] + "/" in sms.texte
    assert f"{debut:%d/%m} à 10h00" in sms.texte
    assert len(sms.texte) <= 160
    (courriel,) = serveur_smtp.courriels
    assert courriel.destinataires == ("elodie@exemple.fr",)
    ics = next(
        part for part in courriel.message.walk() if part.get_content_type() == "text/calendar"
    )
    (event,) = Calendar.from_ical(ics.get_content()).walk("VEVENT")
    assert event.decoded("dtstart").astimezone(PARIS) == debut
    rows = {m["canal"]: m for m in await messages(c) if m["genre"] == "confirmation"}
    assert rows["sms"]["statut"] == "envoye" and rows["sms"]["segments"] == 1
    assert rows["email"]["statut"] == "envoye"


async def test_reminders_at_their_local_times_across_the_spring_change(
    client: httpx.AsyncClient, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    c = await cabinet(faux_fournisseur_sms)
    await ParametresNotification.update({ParametresNotification.rappels_heures: [72, 2]}).where(
        ParametresNotification.territoire == c["territoire"].id
    )
    debut = datetime.combine(MARDI_APRES_LE_CHANGEMENT, datetime.min.time(), PARIS).replace(
        hour=9, minute=30
    )
    await reserver(client, c, debut)
    rappels = [m for m in await messages(c) if m["genre"] == "rappel"]
    moments = sorted(m["du_at"].astimezone(PARIS) for m in rappels)
    # 72 h on the wall clock: Saturday 09:30 (winter time), not 10:30; 2 h before is 07:30,
    # in the quiet hours: the evening before instead, at 19:59 (summer time by then).
    assert moments == [
        datetime(2027, 3, 27, 9, 30, tzinfo=PARIS),
        datetime(2027, 3, 29, 19, 59, tzinfo=PARIS),
    ]
    assert [m.utcoffset() for m in moments] == [timedelta(hours=1), timedelta(hours=2)]
    await envoi.vider(hors_silence())  # the confirmation
    assert len(faux_fournisseur_sms.recus) == 1
    await envoi.vider(datetime(2027, 3, 27, 9, 29, tzinfo=PARIS))
    assert len(faux_fournisseur_sms.recus) == 1
    await envoi.vider(datetime(2027, 3, 27, 9, 30, 30, tzinfo=PARIS))
    assert len(faux_fournisseur_sms.recus) == 2
    assert faux_fournisseur_sms.recus[-1].texte.startswith("Rappel PMI : RDV le mar. 30/03 à 09h30")
    await envoi.vider(datetime(2027, 3, 29, 19, 59, 30, tzinfo=PARIS))
    assert len(faux_fournisseur_sms.recus) == 3
    # After the rdv, nothing more, ever.
    await envoi.vider(datetime(2027, 3, 31, 12, 0, tzinfo=PARIS))
    assert len(faux_fournisseur_sms.recus) == 3 and faux_fournisseur_sms.doublons() == {}


async def test_cancelling_takes_back_the_reminders_and_the_service_says_so(
    client: httpx.AsyncClient, new_browser: Any, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    c = await cabinet(faux_fournisseur_sms)
    debut = factories.monday_at("09:00", weeks=3)
    rdv = await reserver(client, c, debut)
    agent = new_browser()
    await agent.sign_in(c["agent"].email)
    rdv_id = (await Rdv.select(Rdv.id).where(Rdv.code == rdv["code"]).first())["id"]
    cancelled = await agent.post_form(
        f"/agenda/rdv/{rdv_id}/statut", {"statut": "annule", "retour": "/agenda"}
    )
    assert cancelled.status_code in (200, 303), cancelled.text
    by_kind = {m["genre"]: m["statut"] for m in await messages(c) if m["genre"] != "confirmation"}
    assert by_kind == {"rappel": "annule", "annulation": "en_attente"}
    await envoi.vider(hors_silence())
    texts = [r.texte for r in faux_fournisseur_sms.recus]
    assert any("a annulé votre RDV du" in t for t in texts)
    assert not any(t.startswith("Rappel") for t in texts)


async def test_a_move_by_the_service_sends_the_new_time_and_new_reminders(
    client: httpx.AsyncClient, new_browser: Any, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    c = await cabinet(faux_fournisseur_sms)
    debut = factories.monday_at("09:00", weeks=3)
    rdv = await reserver(client, c, debut)
    rdv_id = (await Rdv.select(Rdv.id).where(Rdv.code == rdv["code"]).first())["id"]
    from rdv.services import cycle

    await cycle.deplacer(
        rdv_id, debut + timedelta(hours=2), cycle.Acteur("agent", c["agent"].id), libre_choix=True
    )
    rows = await messages(c)
    old = [m for m in rows if m["genre"] == "rappel" and m["cle"].endswith(":s0")]
    new = [m for m in rows if m["genre"] == "rappel" and m["cle"].endswith(":s1")]
    assert {m["statut"] for m in old} == {"annule"} and len(new) == 2
    assert {m["statut"] for m in new} == {"en_attente"}
    (deplacement,) = [m for m in rows if m["genre"] == "deplacement"]
    assert f"{debut:%d/%m} à 11h00" in deplacement["texte"]


async def test_no_sms_to_a_number_that_said_stop(
    client: httpx.AsyncClient, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    from notifications.services.webhooks import opposer

    c = await cabinet(faux_fournisseur_sms)
    await opposer(c["territoire"].id, "+33612345678")
    await reserver(client, c, factories.monday_at("11:00", weeks=2))
    assert [m for m in await messages(c) if m["canal"] == "sms"] == []


async def test_the_agent_sees_that_the_usager_said_stop(
    server: str,
    client: httpx.AsyncClient,
    new_browser: Any,
    faux_fournisseur_sms: FauxFournisseurSms,
) -> None:
    c = await cabinet(faux_fournisseur_sms)
    debut = factories.monday_at("10:30", weeks=2)
    await reserver(client, c, debut)
    await envoi.vider(hors_silence())
    url = f"{server}/webhooks/sms/smsfactor/{c['territoire'].id}/entrants"
    assert await faux_fournisseur_sms.aenvoyer_entrant(url, "+33612345678", "STOP") == 200
    agent = new_browser()
    await agent.sign_in(c["agent"].email)
    page = await agent.http.get("/agenda", params={"jour": debut.date().isoformat()})
    assert "Élodie Le Goff" in page.text and "ne reçoit pas de SMS (STOP)" in page.text
    rappels = [m["statut"] for m in await messages(c) if m["genre"] == "rappel"]
    assert rappels and set(rappels) == {"annule"}


async def test_a_motif_can_have_its_own_reminders(
    client: httpx.AsyncClient, new_browser: Any, faux_fournisseur_sms: FauxFournisseurSms
) -> None:
    c = await cabinet(faux_fournisseur_sms)
    admin = await factories.agent(c["territoire"], role="admin")
    browser = new_browser()
    await browser.sign_in(admin.email)
    champ = f"rappels_{c['motif'].id}"
    bad = await browser.post_form("/admin/notifications/motifs", {champ: "la veille"})
    assert bad.status_code == 422 and "Des nombres d&#39;heures" in bad.text
    ok = await browser.post_form("/admin/notifications/motifs", {champ: "24"})
    assert ok.status_code in (200, 303)
    page = await browser.http.get("/admin/notifications")
    assert f'name="{champ}"' in page.text and 'value="24"' in page.text
    debut = factories.monday_at("10:00", weeks=2)
    await reserver(client, c, debut)
    (rappel,) = [m for m in await messages(c) if m["genre"] == "rappel"]
    assert rappel["du_at"].astimezone(PARIS) == debut - timedelta(hours=24)
    # "aucun": no reminder at all for this motif.
    await browser.post_form("/admin/notifications/motifs", {champ: "aucun"})
    await reserver(client, c, factories.monday_at("11:00", weeks=2))
    assert len([m for m in await messages(c) if m["genre"] == "rappel"]) == 1

"""The SMTP provider against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from notifications.fournisseurs import registre
from notifications.fournisseurs.base import ErreurDefinitive, ErreurTemporaire, MessageSortant
from tests.fakes import ServeurSmtp, fixture_serveur_smtp  # noqa: F401
from tests.fakes.fournisseur_sms import port_libre

ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rdv//FR\r\nMETHOD:REQUEST\r\n"
    b"BEGIN:VEVENT\r\nUID:rdv-7@rdv\r\nDTSTART:20260303T080000Z\r\n"
    b"SUMMARY:Rendez-vous PMI\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def courriel(destinataire: str = "jeanne@example.org") -> MessageSortant:
    return MessageSortant(
        reference="m-courriel-7",
        destinataire=destinataire,
        texte="Bonjour,\nvotre rendez-vous du 3 mars à 9 h est confirmé.",
        expediteur="Département de la Haute-Garonne <rdv@cd31.fr>",
        sujet="Rendez-vous confirmé",
        pieces_jointes=(("rdv.ics", "text/calendar; method=REQUEST", ICS),),
    )


async def test_the_server_receives_the_mail_with_its_invitation_and_our_reference(
    serveur_smtp: ServeurSmtp,
) -> None:
    fournisseur = registre.smtp_depuis_url(serveur_smtp.url, timeout=5)
    resultat = await fournisseur.envoyer(courriel())

    (recu,) = serveur_smtp.courriels
    assert recu.expediteur == "rdv@cd31.fr"
    assert recu.destinataires == ("jeanne@example.org",)
    message = recu.message
    assert message["Message-ID"] == "<m-courriel-7@cd31.fr>"
    assert resultat.fournisseur_id == "m-courriel-7@cd31.fr"
    assert message["X-Rdv-Reference"] == "m-courriel-7"
    assert message["Subject"] == "Rendez-vous confirmé"
    corps = message.get_body(("plain",))
    assert corps is not None and "3 mars à 9 h" in corps.get_content()
    (invitation,) = list(message.iter_attachments())
    assert isinstance(invitation, EmailMessage)
    assert invitation.get_content_type() == "text/calendar"
    assert invitation.get_param("method") == "REQUEST"
    assert invitation.get_payload(decode=True) == ICS


async def test_a_recipient_refused_for_good_is_a_final_error(serveur_smtp: ServeurSmtp) -> None:
    serveur_smtp.refuses.add("inconnu@example.org")
    fournisseur = registre.smtp_depuis_url(serveur_smtp.url, timeout=5)
    with pytest.raises(ErreurDefinitive, match="550"):
        await fournisseur.envoyer(courriel("inconnu@example.org"))
    assert serveur_smtp.courriels == []


async def test_a_recipient_refused_for_now_is_a_temporary_error(serveur_smtp: ServeurSmtp) -> None:
    serveur_smtp.occupes.add("occupe@example.org")
    fournisseur = registre.smtp_depuis_url(serveur_smtp.url, timeout=5)
    with pytest.raises(ErreurTemporaire, match="450"):
        await fournisseur.envoyer(courriel("occupe@example.org"))


async def test_a_relay_that_is_down_is_a_temporary_and_certain_error() -> None:
    fournisseur = registre.smtp_depuis_url(f"smtp://127.0.0.1:{port_libre()}?starttls=0")
    with pytest.raises(ErreurTemporaire) as erreur:
        await fournisseur.envoyer(courriel())
    assert not erreur.value.incertain


async def test_a_relay_without_starttls_is_refused_when_starttls_is_required(
    serveur_smtp: ServeurSmtp,
) -> None:
    exigeant = registre.smtp_depuis_url(serveur_smtp.url.replace("?starttls=0", ""), timeout=5)
    with pytest.raises(ErreurDefinitive):
        await exigeant.envoyer(courriel())
    assert serveur_smtp.courriels == []

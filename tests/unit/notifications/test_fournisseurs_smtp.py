"""The e-mail an SMTP relay receives: headers carrying our reference, the .ics invitation."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from notifications.fournisseurs.base import MessageSortant
from notifications.fournisseurs.smtp import Smtp, methode_ics, type_mime

ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n"
    b"BEGIN:VEVENT\r\nUID:rdv-1@rdv\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def message(*pieces: tuple[str, str, bytes]) -> MessageSortant:
    return MessageSortant(
        reference="m-42",
        destinataire="jeanne@example.org",
        texte="Votre rendez-vous est confirmé.",
        expediteur="Département <rdv@cd31.fr>",
        sujet="Rendez-vous confirmé",
        pieces_jointes=pieces,
    )


def test_the_reference_is_the_message_id_and_a_header_of_its_own() -> None:
    courriel = Smtp(hote="relais").composer(message())
    assert courriel["Message-ID"] == "<m-42@cd31.fr>"
    assert courriel["X-Rdv-Reference"] == "m-42"
    assert courriel["Auto-Submitted"] == "auto-generated"
    assert courriel["Subject"] == "Rendez-vous confirmé"
    assert courriel.get_content_type() == "text/plain"


def test_a_configured_domain_wins_over_the_senders() -> None:
    courriel = Smtp(hote="relais", domaine="rdv.cd31.fr").composer(message())
    assert courriel["Message-ID"] == "<m-42@rdv.cd31.fr>"


def test_an_ics_attachment_is_a_calendar_request_part() -> None:
    courriel = Smtp(hote="relais").composer(
        message(("rdv.ics", "text/calendar; method=REQUEST", ICS))
    )
    assert courriel.get_content_type() == "multipart/mixed"
    (piece,) = list(courriel.iter_attachments())
    assert isinstance(piece, EmailMessage)
    assert piece.get_content_type() == "text/calendar"
    assert piece.get_param("method") == "REQUEST"
    assert piece.get_filename() == "rdv.ics"
    assert piece.get_payload(decode=True) == ICS


def test_a_calendar_without_method_in_its_type_takes_the_one_of_its_content() -> None:
    annulation = ICS.replace(b"METHOD:REQUEST", b"METHOD:CANCEL")
    courriel = Smtp(hote="relais").composer(
        message(("annulation.ics", "text/calendar", annulation))
    )
    (piece,) = list(courriel.iter_attachments())
    assert isinstance(piece, EmailMessage)
    assert piece.get_param("method") == "CANCEL"


@pytest.mark.parametrize(
    ("mime", "attendu"),
    [
        ("text/calendar; method=REQUEST", ("text", "calendar", {"method": "REQUEST"})),
        ("application/pdf", ("application", "pdf", {})),
        ("", ("application", "octet-stream", {})),
    ],
)
def test_mime_types_are_split_into_type_and_parameters(
    mime: str, attendu: tuple[str, str, dict[str, str]]
) -> None:
    assert type_mime(mime) == attendu


def test_a_calendar_without_method_is_a_request() -> None:
    assert methode_ics(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n") == "REQUEST"

"""Fake providers for tests: real servers on 127.0.0.1 that record what they received.

- `fournisseur_sms.FauxFournisseurSms`: SMS Factor and Brevo over HTTP (fixture
  `faux_fournisseur_sms`);
- `ServeurSmtp` below: an aiosmtpd SMTP server (fixture `serveur_smtp`).

A test module uses a fixture by importing its function, named `fixture_<name>` so that the
import does not clash with the test's parameter:
`from tests.fakes import fixture_faux_fournisseur_sms, fixture_serveur_smtp  # noqa: F401`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

__all__ = [
    "Courriel",
    "FauxFournisseurSms",
    "ServeurSmtp",
    "fixture_faux_fournisseur_sms",
    "fixture_serveur_smtp",
]


@dataclass(frozen=True)
class Courriel:
    """A message the SMTP server accepted: its envelope and its parsed content."""

    expediteur: str
    destinataires: tuple[str, ...]
    message: EmailMessage


class ServeurSmtp:
    """An SMTP server (no TLS, no auth) that records messages; some recipients can be
    refused for good (550) or for now (450)."""

    def __init__(self) -> None:
        self.courriels: list[Courriel] = []
        self.refuses: set[str] = set()
        self.occupes: set[str] = set()
        from tests.fakes.fournisseur_sms import port_libre

        self.port = port_libre()
        self._controleur = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        """For `registre.smtp_depuis_url`."""
        return f"smtp://127.0.0.1:{self.port}?starttls=0"

    def __enter__(self) -> ServeurSmtp:
        self._controleur.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controleur.stop()

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuses:
            return "550 5.1.1 Destinataire inconnu"
        if address in self.occupes:
            return "450 4.2.1 Boîte occupée, réessayez plus tard"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.courriels.append(Courriel(envelope.mail_from, tuple(envelope.rcpt_tos), message))
        return "250 Message accepté"


def __getattr__(nom: str) -> Any:
    # Imported on demand, so that `python -m tests.fakes.fournisseur_sms` does not import
    # the module twice.
    if nom in ("FauxFournisseurSms", "fixture_faux_fournisseur_sms"):
        from tests.fakes import fournisseur_sms

        return getattr(fournisseur_sms, nom)
    raise AttributeError(nom)


@pytest.fixture(name="serveur_smtp")
def fixture_serveur_smtp() -> Iterator[ServeurSmtp]:
    """A fresh SMTP server for the test."""
    with ServeurSmtp() as serveur:
        yield serveur

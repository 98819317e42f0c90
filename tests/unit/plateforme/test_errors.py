"""Errors read by people are French; codes are stable; redirects stay on this site."""

from __future__ import annotations

import pytest

from plateforme.http_errors import _french
from sites.controllers.connexion import safe_next
from sites.services.forms import Form


@pytest.mark.parametrize(
    ("litestar_message", "french"),
    [
        ("Expected `int`, got `str`", "doit être un nombre entier"),
        ("Expected `int` >= 1", "doit être supérieur ou égal à 1"),
        ("Expected `int` <= 50", "doit être inférieur ou égal à 50"),
        ("Missing required query parameter 'q'", "obligatoire"),
        ("something nobody planned", "valeur invalide"),
    ],
)
def test_validation_messages_are_translated(litestar_message: str, french: str) -> None:
    assert _french(litestar_message) == french


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/admin/sites", "/admin/sites"),
        ("//evil.example/admin", "/admin"),
        ("https://evil.example", "/admin"),
        ("/\\evil.example", "/admin"),
        (None, "/admin"),
    ],
)
def test_after_sign_in_the_agent_is_only_sent_to_a_page_of_this_site(
    target: str | None, expected: str
) -> None:
    assert safe_next(target) == expected


def test_a_form_collects_every_error_before_refusing() -> None:
    form = Form({"nom": "  ", "latitude": "91", "email": "x@", "debut": "2026-13-01"})
    form.text("nom", required=True, label="Le nom")
    form.number("latitude", low=-90, high=90, label="La latitude")
    form.email("email")
    form.day("debut", label="Premier jour")
    assert set(form.errors.errors) == {"nom", "latitude", "email", "debut"}
    assert form.errors.errors["nom"] == "Le nom est obligatoire."

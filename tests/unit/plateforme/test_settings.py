"""Settings read from the environment."""

from __future__ import annotations

import pytest

from plateforme.settings import load_settings


@pytest.mark.parametrize(
    ("public_url", "secure"),
    [
        ("http://127.0.0.1:8000", False),
        ("http://localhost:8000", False),
        ("https://rdv.haute-garonne.fr", True),
        ("http://rdv.haute-garonne.fr", True),
    ],
)
def test_session_cookies_are_secure_everywhere_but_on_a_local_http_address(
    monkeypatch: pytest.MonkeyPatch, public_url: str, secure: bool
) -> None:
    monkeypatch.setenv("PUBLIC_URL", public_url)
    assert load_settings().cookie_secure is secure


def test_production_refuses_to_start_without_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_settings()


def test_an_unknown_database_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://x")
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        load_settings()


def test_the_engine_follows_the_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://rdv@127.0.0.1/rdv")
    assert load_settings().is_postgres
    monkeypatch.setenv("DATABASE_URL", "sqlite:///var/x.sqlite3")
    settings = load_settings()
    assert not settings.is_postgres and settings.sqlite_path.name == "x.sqlite3"

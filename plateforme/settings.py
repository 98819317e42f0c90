"""Settings read once from the environment (documented in README.md)."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET = "dev-only-secret-change-me"


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "oui", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from error


@dataclass(frozen=True)
class Settings:
    environment: str
    database_url: str
    secret_key: str
    public_url: str
    host: str
    port: int
    log_level: str
    login_max_failures: int
    login_window_seconds: int
    session_max_age_seconds: int
    # Off on extra workers: one process runs the periodic jobs (they are safe
    # to run twice, but there is no need to).
    scheduler_enabled: bool = True
    # Tickets a kiosk may issue per minute before it is refused (429).
    borne_tickets_par_minute: int = 20
    # Remote tickets one address may take per hour (each may cost SMS).
    tickets_distance_par_heure: int = 10
    # Personal data retention (notifications.services.retention).
    retention_rdv_jours: int = 730
    retention_messages_jours: int = 183
    # Seconds between two runs of the outbox worker.
    outbox_intervalle: int = 5
    # A claim older than this belongs to a dead worker: its messages are reconciled.
    outbox_bail_secondes: int = 120

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> Path:
        """Path of the SQLite file, for `sqlite:///relative` or `sqlite:////absolute` URLs."""
        path = Path(self.database_url.removeprefix("sqlite:///"))
        return path if path.is_absolute() else PROJECT_ROOT / path

    @property
    def cookie_secure(self) -> bool:
        """Secure cookies everywhere except on a local http address."""
        parts = urlsplit(self.public_url)
        local = parts.hostname in {"localhost", "127.0.0.1", "::1"}
        return parts.scheme == "https" or not local

    @property
    def session_key(self) -> bytes:
        """32 bytes for the AES-GCM session cookie, derived from SECRET_KEY."""
        return hashlib.sha256(("session:" + self.secret_key).encode()).digest()

    @property
    def csrf_secret(self) -> str:
        return hashlib.sha256(("csrf:" + self.secret_key).encode()).hexdigest()


def load_settings() -> Settings:
    environment = os.environ.get("ENVIRONMENT", "development")
    secret_key = os.environ.get("SECRET_KEY", "")
    if not secret_key:
        if environment == "production":
            raise RuntimeError("SECRET_KEY is required when ENVIRONMENT=production")
        secret_key = DEV_SECRET
    database_url = os.environ.get("DATABASE_URL", "sqlite:///var/rdv.sqlite3")
    if not database_url.startswith(("sqlite:///", "postgres://", "postgresql://")):
        raise RuntimeError("DATABASE_URL must start with sqlite:///, postgres:// or postgresql://")
    return Settings(
        environment=environment,
        database_url=database_url,
        secret_key=secret_key,
        public_url=os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        host=os.environ.get("HOST", "127.0.0.1"),
        port=_int("PORT", 8000),
        log_level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        login_max_failures=_int("LOGIN_MAX_FAILURES", 5),
        login_window_seconds=_int("LOGIN_WINDOW_SECONDS", 900),
        session_max_age_seconds=_int("SESSION_MAX_AGE_SECONDS", 8 * 3600),
        scheduler_enabled=_bool(os.environ.get("SCHEDULER_ENABLED"), True),
        borne_tickets_par_minute=_int("BORNE_TICKETS_PAR_MINUTE", 20),
        tickets_distance_par_heure=_int("TICKETS_DISTANCE_PAR_HEURE", 10),
        retention_rdv_jours=_int("RETENTION_RDV_JOURS", 730),
        retention_messages_jours=_int("RETENTION_MESSAGES_JOURS", 183),
        outbox_intervalle=_int("OUTBOX_INTERVALLE", 5),
        outbox_bail_secondes=_int("OUTBOX_BAIL_SECONDES", 120),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()

"""Test session set-up: the environment is set before anything of the app is imported.

The suite runs once per engine: SQLite by default (a file in a temp dir), or
PostgreSQL when TEST_DATABASE_URL points at a throwaway database (the Makefile
starts one). Tests share one migrated database and stay out of each other's way
by creating their own territoire with unique names.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="rdv-tests-"))
os.environ["DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_TMP}/test.sqlite3"
os.environ["PICCOLO_CONF"] = "piccolo_conf"
os.environ["ENVIRONMENT"] = "test"
os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.setdefault("LOGIN_MAX_FAILURES", "5")
# The test servers run no periodic jobs: tests drive the outbox and the queue closing
# themselves, at the instants they choose; one test turns the scheduler on.
os.environ.setdefault("SCHEDULER_ENABLED", "0")
# Every test talks from 127.0.0.1: the per-address limit of remote tickets is tested on a
# server of its own (test_refus.py).
os.environ.setdefault("TICKETS_DISTANCE_PAR_HEURE", "1000")
# Keys of the fake SMS providers (tests/fakes), read by name like real ones.
os.environ.setdefault("RDV_SMS_TEST_SMSFACTOR_CLE", "jeton-smsfactor-de-test")
os.environ.setdefault("RDV_SMS_TEST_BREVO_CLE", "xkeysib-cle-brevo-de-test")
os.environ.setdefault("RDV_SMS_TEST_WEBHOOK_SECRET", "secret-webhook-de-test")
# The fake providers listen on 127.0.0.1: the operator allows that address.
os.environ.setdefault("SMS_URLS_AUTORISEES", "http://127.0.0.1:")

import pytest  # noqa: E402


def _reset_postgres_schema(url: str) -> None:
    import asyncpg

    async def reset() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await connection.close()

    asyncio.run(reset())


def pytest_configure(config: pytest.Config) -> None:
    from plateforme.migrations import migrate
    from plateforme.settings import get_settings

    settings = get_settings()
    if settings.is_postgres:
        _reset_postgres_schema(settings.database_url)
    asyncio.run(migrate())


def pytest_report_header(config: pytest.Config) -> str:
    from plateforme.settings import get_settings

    engine = "PostgreSQL" if get_settings().is_postgres else "SQLite"
    return f"database engine: {engine}"


@pytest.fixture(scope="session", autouse=True)
async def database_pool() -> object:
    """On PostgreSQL the test process keeps its own pool, in the tests' event loop."""
    from plateforme import db
    from plateforme.settings import get_settings

    await db.start(get_settings())
    yield None
    await db.stop()

"""Apply the Piccolo migrations of every app, on either engine."""

from __future__ import annotations

import os

from plateforme.db import enable_wal
from plateforme.settings import get_settings


async def migrate() -> None:
    os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")
    from piccolo.apps.migrations.commands.forwards import run_forwards

    enable_wal(get_settings())
    result = await run_forwards(app_name="all", migration_id="all")
    if not result.success:
        raise RuntimeError(f"Migrations failed: {result.message}")

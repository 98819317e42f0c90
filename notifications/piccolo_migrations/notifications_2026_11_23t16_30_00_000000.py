"""One STOP per number and territoire; the index the outbox worker claims by."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-23T16:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique STOP per territoire, outbox indexes"

STATEMENTS = [
    "CREATE UNIQUE INDEX opposition_sms_uniq ON opposition_sms (territoire, telephone)",
    "CREATE INDEX message_statut_du ON message (statut, du_at)",
    "CREATE INDEX message_rdv ON message (rdv)",
    "CREATE INDEX message_ticket ON message (ticket)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def create() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(create)
    return manager

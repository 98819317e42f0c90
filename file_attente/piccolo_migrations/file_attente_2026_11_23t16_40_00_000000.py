"""Invariant 5 in the database: the ticket log is append-only, on both engines."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-23T16:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Ticket log append-only"

POSTGRES = [
    """CREATE FUNCTION ticket_historique_fige() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'ticket_historique_append_only' USING ERRCODE = 'restrict_violation';
    END;
    $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER ticket_historique_fige BEFORE UPDATE OR DELETE ON ticket_historique
        FOR EACH ROW EXECUTE FUNCTION ticket_historique_fige()""",
]
SQLITE = [
    """CREATE TRIGGER ticket_historique_fige_update BEFORE UPDATE ON ticket_historique
        BEGIN SELECT RAISE(ABORT, 'ticket_historique_append_only'); END""",
    """CREATE TRIGGER ticket_historique_fige_delete BEFORE DELETE ON ticket_historique
        BEGIN SELECT RAISE(ABORT, 'ticket_historique_append_only'); END""",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="file_attente", description=DESCRIPTION)

    async def create() -> None:
        engine = engine_finder()
        assert engine is not None
        for statement in POSTGRES if isinstance(engine, PostgresEngine) else SQLITE:
            await engine.run_ddl(statement)

    manager.add_raw(create)
    return manager

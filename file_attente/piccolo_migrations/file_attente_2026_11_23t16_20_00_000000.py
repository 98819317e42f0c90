"""Invariant 2 in the database: one number per queue and day (ticket and counter unique
indexes); queues, counters and prefixes unique within a site; the waiting-list index."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-23T16:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique numbering per queue and day, unique names within a site"

UNIQUE = {
    "compteur_ticket_uniq": "compteur_ticket (file, jour)",
    "ticket_numero_uniq": "ticket (file, jour, numero)",
    "file_attente_site_service_uniq": "file_attente (site, service)",
    "file_attente_site_prefixe_uniq": "file_attente (site, prefixe)",
    "guichet_site_nom_uniq": "guichet (site, nom)",
}
INDEXES = {"ticket_file_actuelle_jour_statut": "ticket (file_actuelle, jour, statut)"}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="file_attente", description=DESCRIPTION)

    async def create() -> None:
        engine = engine_finder()
        assert engine is not None
        for name, target in UNIQUE.items():
            await engine.run_ddl(f"CREATE UNIQUE INDEX {name} ON {target}")
        for name, target in INDEXES.items():
            await engine.run_ddl(f"CREATE INDEX {name} ON {target}")

    async def drop() -> None:
        engine = engine_finder()
        assert engine is not None
        for name in [*UNIQUE, *INDEXES]:
            await engine.run_ddl(f"DROP INDEX {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager

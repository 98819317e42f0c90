"""Composite unique indexes, as raw SQL that both engines accept."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-23T13:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Composite unique indexes of the sites app"

INDEXES = {
    "service_territoire_code_uniq": "service (territoire, code)",
    "site_service_uniq": "site_service (site, service)",
    "sectorisation_uniq": "sectorisation (commune, service, site)",
    "agent_site_uniq": "agent_site (agent, site)",
    "agent_service_uniq": "agent_service (agent, service)",
    "site_territoire_reference_uniq": "site (territoire, reference)",
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="sites", description=DESCRIPTION)

    async def create_indexes() -> None:
        engine = engine_finder()
        assert engine is not None
        for name, target in INDEXES.items():
            await engine.run_ddl(f"CREATE UNIQUE INDEX {name} ON {target}")

    async def drop_indexes() -> None:
        engine = engine_finder()
        assert engine is not None
        for name in INDEXES:
            await engine.run_ddl(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager

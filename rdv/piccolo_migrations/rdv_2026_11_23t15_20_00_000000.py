"""An index to find a usager by phone within a territoire.

Without statistics SQLite picked the territoire index and scanned every usager
of the territoire, inside the booking's write transaction (bench/RESULTS.md).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-23T15:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Index usager (territoire, telephone)"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="rdv", description=DESCRIPTION)

    async def create() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("CREATE INDEX usager_territoire_telephone ON usager (territoire, telephone)")

    async def drop() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("DROP INDEX usager_territoire_telephone")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager

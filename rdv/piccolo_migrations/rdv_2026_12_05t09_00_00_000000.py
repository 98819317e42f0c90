"""usager.recherche: the names folded (case, accents, hyphens) for the agents' search;
the next migration fills it for the usagers already there (Piccolo runs a migration's raw
steps before its new columns)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "usager.recherche"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="rdv", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Usager",
        tablename="usager",
        column_name="recherche",
        db_column_name="recherche",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 255,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager

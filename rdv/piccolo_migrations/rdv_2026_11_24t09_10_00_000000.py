"""When a usager's number replied STOP, so that agents see it next to the number."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-24T09:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "usager.sms_refuse_at"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="rdv", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Usager",
        tablename="usager",
        column_name="sms_refuse_at",
        db_column_name="sms_refuse_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": None,
            "null": True,
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

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod


ID = "2026-11-24T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "A participant's own code, status and ICS sequence (collective sessions)"

COMMON = {
    "primary_key": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "db_column_name": None,
    "secret": False,
}


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="rdv", description=DESCRIPTION
    )

    # Unique through the next migration's index: SQLite cannot add a UNIQUE column.
    manager.add_column(
        table_class_name="RdvParticipant",
        tablename="rdv_participant",
        column_name="code",
        db_column_name="code",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            **COMMON,
            "length": 12,
            "default": None,
            "null": True,
            "unique": False,
            "choices": None,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="RdvParticipant",
        tablename="rdv_participant",
        column_name="statut",
        db_column_name="statut",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            **COMMON,
            "length": 20,
            "default": "a_venir",
            "null": False,
            "unique": False,
            "choices": Enum(
                "StatutRdv",
                {
                    "a_venir": "a_venir",
                    "vu": "vu",
                    "absent": "absent",
                    "excuse": "excuse",
                    "annule": "annule",
                },
            ),
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="RdvParticipant",
        tablename="rdv_participant",
        column_name="sequence",
        db_column_name="sequence",
        column_class_name="Integer",
        column_class=Integer,
        params={
            **COMMON,
            "default": 0,
            "null": False,
            "unique": False,
            "choices": None,
        },
        schema=None,
    )

    # Null by default: SQLite cannot add a column whose default is "now" to a table
    # with rows; the next migration fills the older rows from their rdv.
    for name in ("created_at", "updated_at"):
        manager.add_column(
            table_class_name="RdvParticipant",
            tablename="rdv_participant",
            column_name=name,
            db_column_name=name,
            column_class_name="Timestamptz",
            column_class=Timestamptz,
            params={
                **COMMON,
                "default": None,
                "null": True,
                "unique": False,
                "choices": None,
            },
            schema=None,
        )

    return manager

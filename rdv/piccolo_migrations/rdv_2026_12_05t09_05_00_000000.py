"""usager.recherche filled for the usagers written before it existed."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-05T09:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "usager.recherche filled"


async def remplir() -> None:
    from piccolo.table import Table

    from sites.services.communes import normalise

    class Usager(Table, tablename="usager"):
        pass

    for row in await Usager.raw("SELECT id, prenom, nom FROM usager"):
        await Usager.raw(
            "UPDATE usager SET recherche = {} WHERE id = {}",
            normalise(f"{row['prenom']} {row['nom']}"),
            row["id"],
        )


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="rdv", description=DESCRIPTION)
    manager.add_raw(remplir)
    return manager

"""Invariant 1 in the database: an agent is never booked twice at overlapping times,
a collective rdv never holds more participants than its capacity; plus the
composite unique indexes. PostgreSQL gets an exclusion constraint; SQLite gets
triggers, which run inside the IMMEDIATE write transaction of the booking."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-23T14:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "No double booking, collective capacity, unique indexes"

ACTIFS = "('a_venir', 'vu', 'absent')"

COMMON = [
    "CREATE UNIQUE INDEX plage_motif_uniq ON plage_motif (plage, motif)",
    "CREATE UNIQUE INDEX rdv_participant_uniq ON rdv_participant (rdv, usager)",
    "CREATE INDEX rdv_agent_debut ON rdv (agent, debut)",
    "CREATE INDEX rdv_site_debut ON rdv (site, debut)",
]

POSTGRES = [
    # btree_gist lets the exclusion constraint compare the agent id with "=".
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""ALTER TABLE rdv ADD CONSTRAINT rdv_agent_sans_chevauchement
        EXCLUDE USING gist (agent WITH =, tstzrange(debut, fin, '[)') WITH &&)
        WHERE (statut IN {ACTIFS})""",
    "ALTER TABLE rdv ADD CONSTRAINT rdv_fin_apres_debut CHECK (fin > debut)",
    """CREATE FUNCTION rdv_participant_capacite() RETURNS trigger AS $$
    DECLARE
        limite integer;
        inscrits integer;
    BEGIN
        -- The row lock serialises concurrent sign-ups to the same collective rdv.
        SELECT capacite INTO limite FROM rdv WHERE id = NEW.rdv FOR UPDATE;
        IF limite IS NOT NULL THEN
            SELECT count(*) INTO inscrits FROM rdv_participant WHERE rdv = NEW.rdv;
            IF inscrits >= limite THEN
                RAISE EXCEPTION 'rdv_complet' USING ERRCODE = 'check_violation';
            END IF;
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER rdv_participant_capacite BEFORE INSERT ON rdv_participant
        FOR EACH ROW EXECUTE FUNCTION rdv_participant_capacite()""",
]

# Instants are stored as ISO 8601 UTC strings on SQLite, which compare in time order.
SQLITE = [
    f"""CREATE TRIGGER rdv_agent_sans_chevauchement_insert BEFORE INSERT ON rdv
        WHEN NEW.statut IN {ACTIFS}
        BEGIN
            SELECT RAISE(ABORT, 'rdv_chevauchement') WHERE EXISTS (
                SELECT 1 FROM rdv WHERE agent = NEW.agent AND statut IN {ACTIFS}
                AND debut < NEW.fin AND fin > NEW.debut);
        END""",
    f"""CREATE TRIGGER rdv_agent_sans_chevauchement_update
        BEFORE UPDATE OF agent, debut, fin, statut ON rdv
        WHEN NEW.statut IN {ACTIFS}
        BEGIN
            SELECT RAISE(ABORT, 'rdv_chevauchement') WHERE EXISTS (
                SELECT 1 FROM rdv WHERE agent = NEW.agent AND statut IN {ACTIFS}
                AND id != NEW.id AND debut < NEW.fin AND fin > NEW.debut);
        END""",
    """CREATE TRIGGER rdv_fin_apres_debut BEFORE INSERT ON rdv WHEN NEW.fin <= NEW.debut
        BEGIN SELECT RAISE(ABORT, 'rdv_fin_avant_debut'); END""",
    """CREATE TRIGGER rdv_participant_capacite BEFORE INSERT ON rdv_participant
        BEGIN
            SELECT RAISE(ABORT, 'rdv_complet') WHERE (
                SELECT capacite FROM rdv WHERE id = NEW.rdv) IS NOT NULL
            AND (SELECT count(*) FROM rdv_participant WHERE rdv = NEW.rdv)
                >= (SELECT capacite FROM rdv WHERE id = NEW.rdv);
        END""",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="rdv", description=DESCRIPTION)

    async def create() -> None:
        engine = engine_finder()
        assert engine is not None
        specific = POSTGRES if isinstance(engine, PostgresEngine) else SQLITE
        for statement in COMMON + specific:
            await engine.run_ddl(statement)

    manager.add_raw(create)
    return manager

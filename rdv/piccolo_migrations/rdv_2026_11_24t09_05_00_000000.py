"""Invariant 1 for collective sessions once participants have a status of their own: only
active participants count towards the capacity, whether they join (INSERT), come back
(UPDATE of statut) or change sessions (UPDATE of rdv). A cancelled session takes nobody.

Also: the participants' codes are unique, and the rdv's first participant of older rows
gets the rdv's code (the one the usager received); one person is once in a session among
its active participants, so that someone who cancelled can sign up again.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-24T09:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Participants: unique codes, capacity counts active participants only"

ACTIFS = "('a_venir', 'vu', 'absent')"

COMMON = [
    """UPDATE rdv_participant
        SET code = (SELECT rdv.code FROM rdv WHERE rdv.id = rdv_participant.rdv)
        WHERE code IS NULL AND id IN (SELECT min(id) FROM rdv_participant GROUP BY rdv)""",
    """UPDATE rdv_participant
        SET created_at = (SELECT rdv.created_at FROM rdv WHERE rdv.id = rdv_participant.rdv),
            updated_at = (SELECT rdv.updated_at FROM rdv WHERE rdv.id = rdv_participant.rdv)
        WHERE created_at IS NULL""",
    # Several NULLs are allowed by both engines.
    "CREATE UNIQUE INDEX rdv_participant_code_uniq ON rdv_participant (code)",
    "DROP INDEX rdv_participant_uniq",
    f"""CREATE UNIQUE INDEX rdv_participant_actif_uniq ON rdv_participant (rdv, usager)
        WHERE statut IN {ACTIFS}""",
]

POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION rdv_participant_capacite() RETURNS trigger AS $$
    DECLARE
        limite integer;
        etat varchar;
        inscrits integer;
    BEGIN
        IF NEW.statut NOT IN {ACTIFS} THEN
            RETURN NEW;
        END IF;
        -- Already counted: an active participant staying in the same session.
        IF TG_OP = 'UPDATE' AND OLD.statut IN {ACTIFS} AND OLD.rdv = NEW.rdv THEN
            RETURN NEW;
        END IF;
        -- The row lock serialises concurrent sign-ups to the same collective rdv.
        SELECT capacite, statut INTO limite, etat FROM rdv WHERE id = NEW.rdv FOR UPDATE;
        IF limite IS NOT NULL THEN
            IF etat NOT IN {ACTIFS} THEN
                -- A cancelled session has no seat left.
                RAISE EXCEPTION 'rdv_complet' USING ERRCODE = 'check_violation';
            END IF;
            SELECT count(*) INTO inscrits FROM rdv_participant
                WHERE rdv = NEW.rdv AND statut IN {ACTIFS};
            IF inscrits >= limite THEN
                RAISE EXCEPTION 'rdv_complet' USING ERRCODE = 'check_violation';
            END IF;
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql""",
    "DROP TRIGGER rdv_participant_capacite ON rdv_participant",
    """CREATE TRIGGER rdv_participant_capacite
        BEFORE INSERT OR UPDATE OF rdv, statut ON rdv_participant
        FOR EACH ROW EXECUTE FUNCTION rdv_participant_capacite()""",
]

# Inside the IMMEDIATE write transaction of the booking: writers are serialised, and
# the trigger re-checks what the application read. The row being written is never
# among the counted ones: it is inactive, or active in another session, until written.
_COMPLET = f"""SELECT RAISE(ABORT, 'rdv_complet') FROM rdv
            WHERE rdv.id = NEW.rdv AND rdv.capacite IS NOT NULL AND (
                rdv.statut NOT IN {ACTIFS}
                OR (SELECT count(*) FROM rdv_participant AS p
                    WHERE p.rdv = NEW.rdv AND p.statut IN {ACTIFS})
                   >= rdv.capacite)"""

SQLITE = [
    "DROP TRIGGER rdv_participant_capacite",
    f"""CREATE TRIGGER rdv_participant_capacite_insert BEFORE INSERT ON rdv_participant
        WHEN NEW.statut IN {ACTIFS}
        BEGIN
            {_COMPLET};
        END""",
    f"""CREATE TRIGGER rdv_participant_capacite_update
        BEFORE UPDATE OF rdv, statut ON rdv_participant
        WHEN NEW.statut IN {ACTIFS} AND (OLD.statut NOT IN {ACTIFS} OR OLD.rdv != NEW.rdv)
        BEGIN
            {_COMPLET};
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

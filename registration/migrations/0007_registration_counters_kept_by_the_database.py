"""The conference row's registration counters (agenda 0008), kept by PostgreSQL itself.

Triggers on registrations move the counters of their conference with every insert,
delete and change of status, in the same statement, so they are exact whoever writes
(the services, the admin, a factory, a raw DELETE). A second trigger keeps any other
UPDATE of a conference (a save() from Python with the values it read earlier) from
setting them: only the counting triggers, running one level deeper, may. The registration
service reads them from the conference row it locks anyway, instead of counting.
"""

from django.db import migrations

# The counters move once per statement, by what it changed in each conference (its rows before
# and after, PostgreSQL's transition tables): a bulk insert of 100,000 registrations updates its
# conference once, not 100,000 times. A statement that changes no counted column (an attendee's
# details) leaves the conference row alone: it is neither written nor locked.
CHANGES = """
    UPDATE agenda_conference AS conference SET
        last_registration_number = GREATEST(conference.last_registration_number, changed.last_number),
        confirmed_registrations = conference.confirmed_registrations + changed.confirmed,
        waiting_registrations = conference.waiting_registrations + changed.waiting
    FROM (
        SELECT conference_id, MAX(last_number) AS last_number, SUM(confirmed) AS confirmed, SUM(waiting) AS waiting
        FROM ({parts}) AS part GROUP BY conference_id
    ) AS changed
    WHERE conference.id = changed.conference_id
        AND (changed.confirmed <> 0 OR changed.waiting <> 0
             OR changed.last_number > conference.last_registration_number);
"""
ADDED = """SELECT conference_id, MAX(number) AS last_number,
        COUNT(*) FILTER (WHERE status = 'confirmed') AS confirmed,
        COUNT(*) FILTER (WHERE status = 'waitlisted') AS waiting
    FROM new_rows GROUP BY conference_id"""
REMOVED = """SELECT conference_id, NULL::integer AS last_number,
        -COUNT(*) FILTER (WHERE status = 'confirmed') AS confirmed,
        -COUNT(*) FILTER (WHERE status = 'waitlisted') AS waiting
    FROM old_rows GROUP BY conference_id"""


def _counting(name: str, event: str, transition: str, parts: str) -> list[str]:
    return [
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{CHANGES.format(parts=parts)} RETURN NULL; END $$",
        f"CREATE TRIGGER {name} AFTER {event} ON registration_registration "
        f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
    ]


COUNT = [
    *_counting("registrations_inserted", "INSERT", "NEW TABLE AS new_rows", ADDED),
    *_counting("registrations_deleted", "DELETE", "OLD TABLE AS old_rows", REMOVED),
    *_counting(
        "registrations_updated", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", f"{ADDED} UNION ALL {REMOVED}"
    ),
    """
CREATE FUNCTION conference_counters_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Depth 1: an UPDATE from the application. Depth 2: a counting trigger's.
    IF pg_trigger_depth() < 2 THEN
        NEW.last_registration_number := OLD.last_registration_number;
        NEW.confirmed_registrations := OLD.confirmed_registrations;
        NEW.waiting_registrations := OLD.waiting_registrations;
    END IF;
    RETURN NEW;
END $$
""",
    """
CREATE TRIGGER conference_counters_kept
    BEFORE UPDATE OF last_registration_number, confirmed_registrations, waiting_registrations ON agenda_conference
    FOR EACH ROW EXECUTE FUNCTION conference_counters_kept()
""",
]

# The counters of the registrations already there, before the triggers keep them.
FILL = """
UPDATE agenda_conference AS conference SET
    last_registration_number = counted.last_number,
    confirmed_registrations = counted.confirmed,
    waiting_registrations = counted.waiting
FROM (
    SELECT conference_id,
        MAX(number) AS last_number,
        COUNT(*) FILTER (WHERE status = 'confirmed') AS confirmed,
        COUNT(*) FILTER (WHERE status = 'waitlisted') AS waiting
    FROM registration_registration GROUP BY conference_id
) AS counted
WHERE counted.conference_id = conference.id
"""

UNDO = [
    "DROP TRIGGER conference_counters_kept ON agenda_conference",
    "DROP FUNCTION conference_counters_kept()",
    *(
        statement
        for name in ("registrations_inserted", "registrations_deleted", "registrations_updated")
        for statement in (f"DROP TRIGGER {name} ON registration_registration", f"DROP FUNCTION {name}()")
    ),
]


# `make run`'s SQLite fallback, for trying the site on one machine: the same counting in
# SQLite's dialect. SQLite cannot change NEW in a trigger, so it has no guard.
SQLITE_REMOVE = """UPDATE agenda_conference SET
    confirmed_registrations = confirmed_registrations - (OLD.status = 'confirmed'),
    waiting_registrations = waiting_registrations - (OLD.status = 'waitlisted')
WHERE id = OLD.conference_id;"""
SQLITE_ADD = """UPDATE agenda_conference SET
    last_registration_number = MAX(last_registration_number, NEW.number),
    confirmed_registrations = confirmed_registrations + (NEW.status = 'confirmed'),
    waiting_registrations = waiting_registrations + (NEW.status = 'waitlisted')
WHERE id = NEW.conference_id;"""
SQLITE_COUNT = [
    f"CREATE TRIGGER registration_inserted AFTER INSERT ON registration_registration BEGIN {SQLITE_ADD} END",
    f"CREATE TRIGGER registration_deleted AFTER DELETE ON registration_registration BEGIN {SQLITE_REMOVE} END",
    "CREATE TRIGGER registration_changed AFTER UPDATE OF conference_id, status, number ON registration_registration "
    f"BEGIN {SQLITE_REMOVE} {SQLITE_ADD} END",
]
SQLITE_UNDO = [
    "DROP TRIGGER registration_inserted",
    "DROP TRIGGER registration_deleted",
    "DROP TRIGGER registration_changed",
]


def count(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for statement in [FILL, *(COUNT if postgresql else SQLITE_COUNT)]:
        schema_editor.execute(statement)


def uncount(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    for statement in UNDO if postgresql else SQLITE_UNDO:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("agenda", "0008_registration_counters"),
        ("registration", "0006_team_permissions_replace_export_permission"),
    ]

    operations = [
        migrations.RunPython(count, uncount),
    ]

"""The database itself refuses to rewrite PaymentEvent rows.

PostgreSQL refuses UPDATE and DELETE; SQLite refuses UPDATE (a DELETE
trigger there would also block the test runner's table flush, which
PostgreSQL does with TRUNCATE, which row triggers do not see).
"""

from django.db import migrations

PG_INSTALL = """
CREATE OR REPLACE FUNCTION payments_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'payments_paymentevent is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER payments_event_no_update BEFORE UPDATE OR DELETE
    ON payments_paymentevent FOR EACH ROW
    EXECUTE FUNCTION payments_event_append_only();
"""
PG_REMOVE = """
DROP TRIGGER IF EXISTS payments_event_no_update ON payments_paymentevent;
DROP FUNCTION IF EXISTS payments_event_append_only();
"""
SQLITE_INSTALL = """
CREATE TRIGGER payments_event_no_update BEFORE UPDATE ON payments_paymentevent
BEGIN
    SELECT RAISE(ABORT, 'payments_paymentevent is append-only');
END;
"""
SQLITE_REMOVE = "DROP TRIGGER IF EXISTS payments_event_no_update;"


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_INSTALL)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_INSTALL)


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_REMOVE)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_REMOVE)


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]

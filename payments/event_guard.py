"""The append-only guard on ``payments_paymentevent`` and its one exception.

The database refuses every UPDATE and DELETE of an event (migration 0002).
Since migration 0017 PostgreSQL lets an UPDATE through only when the
transaction set ``hakiyetu.reencrypt`` to ``on`` (``SET LOCAL``) and every
column but the encrypted ones is unchanged: the encrypting migration and
``rotate_field_keys`` rewrite ciphertext, nothing else. SQLite's trigger
cannot read a setting, so there it is dropped and created again inside the
rewriting transaction. DELETE stays refused.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db.backends.base.base import BaseDatabaseWrapper

ENCRYPTED_COLUMNS = ("headers", "request_body", "response_body", "raw_body")
_ARRAY = "ARRAY[" + ", ".join(f"'{c}'" for c in ENCRYPTED_COLUMNS) + "]"
_CIPHERTEXT_ONLY = " AND ".join(
    f"(NEW.{c} IS NULL OR NEW.{c} = '' OR left(NEW.{c}, 7) = 'fernet:')"
    for c in ENCRYPTED_COLUMNS
)
PG_FUNCTION_REENCRYPT = f"""
CREATE OR REPLACE FUNCTION payments_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND current_setting('hakiyetu.reencrypt', true) = 'on'
        AND (to_jsonb(NEW) - {_ARRAY}) = (to_jsonb(OLD) - {_ARRAY})
        AND {_CIPHERTEXT_ONLY}
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'payments_paymentevent is append-only';
END;
$$ LANGUAGE plpgsql;
"""
PG_FUNCTION_ORIGINAL = """
CREATE OR REPLACE FUNCTION payments_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'payments_paymentevent is append-only';
END;
$$ LANGUAGE plpgsql;
"""
SQLITE_TRIGGER = """
CREATE TRIGGER payments_event_no_update BEFORE UPDATE ON payments_paymentevent
BEGIN
    SELECT RAISE(ABORT, 'payments_paymentevent is append-only');
END;
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS payments_event_no_update;"


def sqlite_trigger_reinstall(connection: BaseDatabaseWrapper) -> None:
    """The SQLite trigger again (a table rebuild by ALTER drops it)."""
    with connection.cursor() as cursor:
        cursor.execute(SQLITE_DROP)
        cursor.execute(SQLITE_TRIGGER)


def reinstall_sqlite_trigger(apps, schema_editor) -> None:
    """A migration step (``RunPython``) after altering the events table:
    on SQLite the trigger again, elsewhere nothing."""
    if schema_editor.connection.vendor == "sqlite":
        sqlite_trigger_reinstall(schema_editor.connection)


@contextlib.contextmanager
def events_reencryptable(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Within a transaction: event ciphertext may be rewritten."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL hakiyetu.reencrypt = 'on'")
        elif connection.vendor == "sqlite":
            cursor.execute(SQLITE_DROP)
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL hakiyetu.reencrypt = 'off'")
        elif connection.vendor == "sqlite":
            cursor.execute(SQLITE_TRIGGER)

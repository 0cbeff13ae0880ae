"""Rotating the field encryption keys (``manage.py rotate_field_keys``).

Every column of an ``EncryptedTextField`` or ``EncryptedJSONField``, in
every installed model, is rewritten with the first ``FIELD_ENCRYPTION_KEYS``
key where it is plaintext or under another key; the plaintext never
changes, nor do the index columns (``FIELD_HASH_KEY`` is not rotated).
Events are rewritten through ``payments.event_guard``, the one exception to
their append-only rule.
"""

from __future__ import annotations

from django.apps import apps
from django.db import connection

from core.fields import EncryptedJSONField, EncryptedTextField
from core.reencrypt import rewrite_table
from payments.event_guard import events_reencryptable
from payments.models import PaymentEvent


def encrypted_tables() -> dict[str, tuple[str, ...]]:
    """Each table with encrypted columns, and those columns."""
    tables = {}
    for model in apps.get_models():
        columns = tuple(
            field.column
            for field in model._meta.concrete_fields
            if isinstance(field, EncryptedTextField | EncryptedJSONField)
        )
        if columns and not model._meta.proxy:
            tables[model._meta.db_table] = columns
    return tables


def field_keys_rotate(*, batch_size: int = 500) -> dict[str, int]:
    """Re-encrypt every stored value with the first key, one batch per
    transaction; returns the rows rewritten per table (0 on a second run).

    Raises:
        core.crypto.UndecryptableValue: a value no configured key opens
            (its batch is rolled back; earlier batches stay rewritten).
    """
    events = PaymentEvent._meta.db_table
    return {
        table: rewrite_table(
            connection,
            table=table,
            columns=columns,
            guard=(lambda: events_reencryptable(connection))
            if table == events
            else None,
            batch_size=batch_size,
        )
        for table, columns in sorted(encrypted_tables().items())
    }

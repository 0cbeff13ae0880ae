"""Rewriting stored values with the first field key, row by row.

Used by the migrations that encrypt rows written in plaintext (and fill
their index columns) and by ``manage.py rotate_field_keys``. Works on raw
columns through a cursor, so it needs no model and runs the same on
historical and current schemas; only columns that need it are rewritten
(``core.crypto.needs_rewrite``), which makes every run idempotent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from core import crypto

BATCH_SIZE = 500
# index column -> (its source column, the function of the plaintext)
Indexes = dict[str, tuple[str, Callable[[str | None], str]]]


def rewrite_table(
    connection: BaseDatabaseWrapper,
    *,
    table: str,
    columns: Sequence[str],
    indexes: Indexes | None = None,
    guard: Callable[[], AbstractContextManager] | None = None,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Encrypt with the first key every value of ``columns`` that is
    plaintext or under another key, and set ``indexes`` from the plaintext;
    returns how many rows changed. Each batch commits on its own, inside
    ``guard()`` (which may lift a trigger for the batch)."""
    indexes = indexes or {}
    names = [*columns, *indexes]
    last_id, changed = 0, 0
    while True:
        with transaction.atomic(using=connection.alias), (guard or _nothing)():
            rows = _batch(connection, table, names, last_id, batch_size)
            for row_id, *stored in rows:
                values = dict(zip(names, stored, strict=True))
                updates = _row_updates(values, columns, indexes)
                if updates:
                    _update(connection, table, row_id, updates)
                    changed += 1
        if len(rows) < batch_size:
            return changed
        last_id = rows[-1][0]


def _row_updates(values: dict, columns: Sequence[str], indexes: Indexes) -> dict:
    updates = {
        column: crypto.reencrypt_text(values[column])
        for column in columns
        if crypto.needs_rewrite(values[column])
    }
    for index, (source, function) in indexes.items():
        wanted = function(crypto.decrypt_text(values[source] or ""))
        if wanted != values[index]:
            updates[index] = wanted
    return updates


def _batch(connection, table: str, names: list[str], after: int, size: int) -> list:
    quote = connection.ops.quote_name
    selected = ", ".join(quote(name) for name in ["id", *names])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {selected} FROM {quote(table)} "  # noqa: S608 - our names
            "WHERE id > %s ORDER BY id LIMIT %s",
            [after, size],
        )
        return cursor.fetchall()


def _update(connection, table: str, row_id: int, updates: dict) -> None:
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(name)} = %s" for name in updates)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(table)} SET {assignments} WHERE id = %s",  # noqa: S608
            [*updates.values(), row_id],
        )


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield

"""Hot-path statements, compiled once per model, database and shape.

Django builds a query object and compiles its SQL on every ``create()``,
``save()`` and ``update()``: 0.2–0.5 ms of CPU each on this project's
2-core machines, most of a callback's cost (bench/README.md, issue 18).
These helpers write the same statement once per shape and run it through
Django's cursor (query logging, ``CaptureQueriesContext`` and the
database's execute wrappers still see it), with each call's values
prepared by the model's own fields: encrypted fields encrypt, phone index
columns are computed from their source, defaults and ``auto_now`` apply,
as ``save()`` would (``writes``). Reads compile the ORM's own SELECT once
and turn its rows into instances as ``raw()`` would (``reads``).

They skip what ``save()`` adds around the statement: model signals (no
model written through them has receivers; every helper refuses a model
that has) and, for ``insert_row``, building the model instance.
"""

from core.compiled_sql.reads import IntSlot, Slot, instances_from_sql, select_compiled
from core.compiled_sql.writes import (
    SqlValue,
    insert_instance,
    insert_object,
    insert_row,
    save_fields,
    update_rows,
)

__all__ = [
    "IntSlot",
    "Slot",
    "SqlValue",
    "insert_instance",
    "insert_object",
    "insert_row",
    "instances_from_sql",
    "save_fields",
    "select_compiled",
    "update_rows",
]

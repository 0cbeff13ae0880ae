"""Compiled SELECTs and rows made instances (``core.compiled_sql``)."""

import weakref
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.transaction import TransactionManagementError

M = TypeVar("M", bound=Model)


def instances_from_sql(
    model: type[M], sql: str, params: list, *, using: str
) -> list[M]:
    """The rows of ``sql`` (a SELECT of ``model``'s columns, any extra
    columns after them) as instances, each column converted as the ORM
    converts it (decrypted, parsed times on SQLite); an extra column is
    set on the instance under its name. What ``Model.objects.raw()``
    gives, without rebuilding its column mapping on every call."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        if not rows:
            return []
        names = tuple(column[0] for column in cursor.description)
    plan = _row_plan(model, connection, names)
    instances = []
    for row in rows:
        values = list(row)
        for index, converters, expression in plan.converters:
            for convert in converters:
                values[index] = convert(values[index], expression, connection)
        instance = model.from_db(
            using, plan.attnames, [values[index] for index in plan.positions]
        )
        for index, name in plan.extras:
            setattr(instance, name, values[index])
        instances.append(instance)
    return instances


# IntSlot values lie below this: far from any id or amount of ours.
_INT_SLOT_CEILING = -(2**62)


class Slot(str):
    """A named placeholder for a value in a query compiled once
    (``select_compiled``): a text value Django passes through as a
    parameter, replaced by each call's value."""

    __slots__ = ()

    def __new__(cls, name: str) -> "Slot":
        return super().__new__(cls, f"\x00slot:{name}")


class IntSlot(int):
    """``Slot`` for an integer value (a primary key): a number no real
    query of ours passes, replaced by each call's value."""

    __slots__ = ()

    def __new__(cls, name: str) -> "IntSlot":
        return super().__new__(cls, _INT_SLOT_CEILING - zlib.crc32(name.encode()))


# Per key and database: the SQL, its parameters (slots among them), and
# whether it locks rows.
_selects: dict[tuple[str, str], tuple[str, tuple, bool]] = {}


def _is_slot(parameter: object) -> bool:
    """A text slot, or an integer in the slots' range (Django turns an
    ``IntSlot`` into a plain int while compiling)."""
    if isinstance(parameter, Slot):
        return True
    return type(parameter) is int and parameter <= _INT_SLOT_CEILING


def select_compiled(
    model: type[M],
    key: str,
    build: Callable[[], QuerySet],
    values: Mapping[Slot | IntSlot, object],
    *,
    using: str,
) -> list[M]:
    """The rows of ``build()`` (a queryset of ``model`` whose filters use
    ``Slot`` and ``IntSlot`` placeholders), compiled by the ORM once per
    ``key`` and database and run with ``values`` in the slots; rows become
    instances as ``instances_from_sql`` makes them. Compiling and building
    the queryset cost more than running it on the hot paths (issue 18)."""
    compiled = _selects.get((key, using))
    if compiled is None:
        queryset = build()
        sql, params = queryset.query.get_compiler(using=using).as_sql()
        missing = [slot for slot in values if slot not in params]
        unfilled = {p for p in params if _is_slot(p)} - set(values)
        if missing or unfilled or queryset.model is not model:
            raise RuntimeError(
                f"{key}: slots not in the query {missing}, without a value "
                f"{sorted(map(repr, unfilled))}"
            )
        compiled = (sql, tuple(params), queryset.query.select_for_update)
        _selects[(key, using)] = compiled
    sql, params, for_update = compiled
    if for_update and connections[using].get_autocommit():
        # Django checks this when it compiles; compiled once, we check here.
        raise TransactionManagementError(
            "select_for_update cannot be used outside of a transaction."
        )
    filled = [values.get(p, p) if isinstance(p, str | int) else p for p in params]
    return instances_from_sql(model, sql, filled, using=using)


@dataclass(frozen=True, slots=True)
class _RowPlan:
    """Where each model field is in the row (model order), the converters
    by row position, and the extra columns."""

    attnames: tuple[str, ...]
    positions: tuple[int, ...]
    converters: tuple[tuple[int, tuple, object], ...]
    extras: tuple[tuple[int, str], ...]


# Per connection object (one per thread): converters are bound to it.
_row_plans: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _row_plan(model: type[Model], connection, names: tuple[str, ...]) -> _RowPlan:
    plans = _row_plans.setdefault(connection, {})
    key = (model, names)
    if key not in plans:
        position = {name: index for index, name in enumerate(names)}
        fields = [f for f in model._meta.concrete_fields if f.column in position]
        converters = []
        for field in fields:
            column = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(
                connection
            )
            if found:
                converters.append((position[field.column], tuple(found), column))
        columns = {f.column for f in fields}
        plans[key] = _RowPlan(
            attnames=tuple(f.attname for f in fields),
            positions=tuple(position[f.column] for f in fields),
            converters=tuple(converters),
            extras=tuple((i, n) for i, n in enumerate(names) if n not in columns),
        )
    return plans[key]

"""Compiled INSERTs and UPDATEs (``core.compiled_sql``)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from django.db import DatabaseError, connections, router, transaction
from django.db.models import Field, Model
from django.utils import timezone

from core.compiled_sql.statements import (
    compile_filtered_update,
    compile_insert,
    compile_update,
    refuse_signals,
)
from core.fields import INDEX_FUNCTIONS, PhoneIndexField

M = TypeVar("M", bound=Model)


@dataclass(frozen=True, slots=True)
class SqlValue:
    """A column's value computed in the statement itself (a subquery);
    ``sql`` must be the same text for every call of one shape."""

    sql: str
    params: tuple = ()


_inserts: dict[tuple, tuple[str, tuple[Field, ...]]] = {}
_updates: dict[tuple, tuple[str, tuple[Field, ...]]] = {}
_filtered_updates: dict[tuple, tuple[str, tuple[Field, ...], tuple[Field, ...]]] = {}


def insert_row(
    model: type[Model],
    values: Mapping[str, object],
    *,
    skip_if_exists_on: tuple[str, ...] = (),
) -> int | None:
    """INSERT one ``model`` row and return its primary key.

    ``values``: by field name, foreign keys by attname (``payment_id``) or
    as instances; a ``SqlValue`` is computed by the statement. Every other
    field takes its default (``auto_now_add`` fields the time, phone index
    columns their source's index). ``skip_if_exists_on``: the fields of a
    unique constraint; a row that would break it is not inserted and None
    is returned (any other constraint still raises, on every database).
    """
    alias = router.db_for_write(model)
    connection = connections[alias]
    expressions = tuple(
        sorted((n, v.sql) for n, v in values.items() if isinstance(v, SqlValue))
    )
    key = (alias, model, expressions, skip_if_exists_on)
    compiled = _inserts.get(key)
    if compiled is None:
        compiled = _inserts[key] = compile_insert(
            model, connection, dict(expressions), skip_if_exists_on
        )
    sql, fields = compiled
    refuse_signals(model)
    unknown = values.keys() - _field_names(model)
    meta = model._meta
    if meta.auto_field is not None and (
        meta.auto_field.name in values or meta.auto_field.attname in values
    ):
        raise TypeError(f"{meta.label}'s primary key is the database's to choose")
    if unknown:
        names = ", ".join(sorted(unknown))
        raise TypeError(f"{model._meta.label} has no field {names}")
    python_values = _python_values(model, fields, values)
    params: list[object] = []
    for field in fields:
        value = python_values[field.attname]
        if isinstance(value, SqlValue):
            params.extend(value.params)
        else:
            params.append(field.get_db_prep_save(value, connection))
    with transaction.mark_for_rollback_on_error(alias), connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


def insert_instance(model: type[M], values: Mapping[str, object]) -> M:
    """``insert_row``, returning the row as an instance that holds the
    values given; every other column (defaults, times, ``SqlValue``) is
    read from the database if used."""
    pk = insert_row(model, values)
    meta = model._meta
    names, known = [meta.pk.attname], [pk]
    for field in meta.concrete_fields:
        value = _given(field, values)
        if value is _MISSING or _computed_as_saved(field):
            continue  # read from the database if used
        if not isinstance(value, SqlValue):
            names.append(field.attname)
            known.append(value)
    return model.from_db(router.db_for_write(model), names, known)


def insert_object(instance: Model, *, skip_if_exists_on: tuple[str, ...] = ()) -> bool:
    """``instance.save()`` of a new row as one compiled INSERT (its fields'
    ``pre_save`` included); with ``skip_if_exists_on`` as ``insert_row``.
    True, with the instance's pk set, when the row went in."""
    model = type(instance)
    alias = router.db_for_write(model, instance=instance)
    connection = connections[alias]
    key = (alias, model, (), skip_if_exists_on)
    compiled = _inserts.get(key)
    if compiled is None:
        compiled = _inserts[key] = compile_insert(
            model, connection, {}, skip_if_exists_on
        )
    sql, fields = compiled
    refuse_signals(model)
    params = [
        field.get_db_prep_save(field.pre_save(instance, True), connection)
        for field in fields
    ]
    with transaction.mark_for_rollback_on_error(alias), connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = alias
    return True


def update_rows(
    model: type[Model], where: Mapping[str, object], values: Mapping[str, object]
) -> int:
    """``model.objects.filter(**where).update(**values)`` for equality
    filters on concrete fields, compiled once per shape; returns the number
    of rows updated. Values are prepared by their fields (no expressions,
    no ``auto_now``: name the time in ``values``). Like ``update()``, it
    sends no signals."""
    alias = router.db_for_write(model)
    connection = connections[alias]
    key = (alias, model, tuple(where), tuple(values))
    compiled = _filtered_updates.get(key)
    if compiled is None:
        compiled = _filtered_updates[key] = compile_filtered_update(
            model, connection, tuple(where), tuple(values)
        )
    sql, set_fields, where_fields = compiled
    if None in where.values():
        raise ValueError("update_rows matches by equality: no None in where")
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(set_fields, values.values(), strict=True)
    ]
    params += [
        field.get_db_prep_value(value, connection)
        for field, value in zip(where_fields, where.values(), strict=True)
    ]
    with transaction.mark_for_rollback_on_error(alias), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def save_fields(instance: Model, names: tuple[str, ...]) -> None:
    """``instance.save(update_fields=names)`` as one compiled UPDATE by
    primary key: ``auto_now`` fields and the phone index columns of named
    sources are updated too (on the instance as well), as ``save()``
    does. Raises ``DatabaseError`` when no row has the instance's pk."""
    model = type(instance)
    alias = router.db_for_write(model, instance=instance)
    connection = connections[alias]
    key = (alias, model, names)
    compiled = _updates.get(key)
    if compiled is None:
        compiled = _updates[key] = compile_update(model, connection, names)
    sql, fields = compiled
    refuse_signals(model)
    params = [
        field.get_db_prep_save(field.pre_save(instance, False), connection)
        for field in fields
    ]
    params.append(instance.pk)
    with transaction.mark_for_rollback_on_error(alias), connection.cursor() as cursor:
        cursor.execute(sql, params)
        updated = cursor.rowcount
    if updated == 0:
        raise DatabaseError("Save with update_fields did not affect any rows.")


_names: dict[type[Model], frozenset[str]] = {}


def _field_names(model: type[Model]) -> frozenset[str]:
    """Names and attnames of the model's concrete fields."""
    if model not in _names:
        fields = model._meta.concrete_fields
        _names[model] = frozenset(
            [f.name for f in fields] + [f.attname for f in fields]
        )
    return _names[model]


_MISSING = object()


def _given(field: Field, values: Mapping[str, object]) -> object:
    """The value given for ``field`` (by attname, or by name with an
    instance for a foreign key), or ``_MISSING``."""
    if field.attname in values:
        return values[field.attname]
    if field.name in values:
        value = values[field.name]
        if field.is_relation and isinstance(value, Model):
            return value.pk
        return value
    return _MISSING


def _computed_as_saved(field: Field) -> bool:
    """``save()`` computes this field's value whatever it was given."""
    return (
        getattr(field, "auto_now", False)
        or getattr(field, "auto_now_add", False)
        or isinstance(field, PhoneIndexField)
    )


def _python_values(
    model: type[Model], fields: tuple[Field, ...], values: Mapping[str, object]
) -> dict[str, object]:
    """Each field's value before preparation, by attname: given, computed
    (time, phone index) or the field's default."""
    now = None
    result: dict[str, object] = {}
    for field in fields:
        # As save(): auto_now(_add) and index columns ignore a given value.
        if isinstance(field, PhoneIndexField):
            continue  # computed below, from its source
        if _computed_as_saved(field):
            now = now or timezone.now()
            value = now
        else:
            value = _given(field, values)
            if value is _MISSING:
                value = field.get_default()
        result[field.attname] = value
    for field in fields:
        if isinstance(field, PhoneIndexField):
            source = result.get(model._meta.get_field(field.source).attname)
            result[field.attname] = INDEX_FUNCTIONS[field.kind](source)
    return result

"""Compiled INSERTs and UPDATEs (``core.compiled_sql``)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from django.db import DatabaseError, connections, router, transaction
from django.db.models import DateField, DateTimeField, Field, Model, signals
from django.utils import timezone

from core.fields import INDEX_FUNCTIONS, PhoneIndexField

M = TypeVar("M", bound=Model)


@dataclass(frozen=True, slots=True)
class SqlValue:
    """A column's value computed in the statement itself (a subquery);
    ``sql`` must be the same text for every call of one shape."""

    sql: str
    params: tuple = ()


# The pre_save methods whose effect these helpers reproduce without an
# instance: the attribute itself, auto_now(_add), a phone index.
_PLAIN_PRE_SAVE = (Field.pre_save, DateField.pre_save, DateTimeField.pre_save)
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
        compiled = _inserts[key] = _compile_insert(
            model, connection, dict(expressions), skip_if_exists_on
        )
    sql, fields = compiled
    _refuse_signals(model)
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
        if field.attname in values:
            value = values[field.attname]
        elif field.name in values:
            value = values[field.name]
            if field.is_relation and isinstance(value, Model):
                value = value.pk
        else:
            continue
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
        compiled = _inserts[key] = _compile_insert(
            model, connection, {}, skip_if_exists_on
        )
    sql, fields = compiled
    _refuse_signals(model)
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
        compiled = _filtered_updates[key] = _compile_filtered_update(
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
        compiled = _updates[key] = _compile_update(model, connection, names)
    sql, fields = compiled
    _refuse_signals(model)
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


def _python_values(
    model: type[Model], fields: tuple[Field, ...], values: Mapping[str, object]
) -> dict[str, object]:
    """Each field's value before preparation, by attname: given, computed
    (time, phone index) or the field's default."""
    now = None
    result: dict[str, object] = {}
    for field in fields:
        # As save(): auto_now(_add) and index columns ignore a given value.
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            now = now or timezone.now()
            value = now
        elif isinstance(field, PhoneIndexField):
            continue  # computed below, from its source
        elif field.attname in values:
            value = values[field.attname]
        elif field.name in values:
            value = values[field.name]
            if field.is_relation and isinstance(value, Model):
                value = value.pk
        else:
            value = field.get_default()
        result[field.attname] = value
    for field in fields:
        if isinstance(field, PhoneIndexField):
            source = result.get(model._meta.get_field(field.source).attname)
            result[field.attname] = INDEX_FUNCTIONS[field.kind](source)
    return result


def _compile_insert(
    model: type[Model],
    connection,
    expressions: dict[str, str],
    skip_if_exists_on: tuple[str, ...],
) -> tuple[str, tuple[Field, ...]]:
    meta = model._meta
    fields = tuple(f for f in meta.local_concrete_fields if f is not meta.auto_field)
    for field in fields:
        _check_reproducible(field)
    known = {f.name for f in fields} | {f.attname for f in fields}
    if not set(expressions) <= known:
        raise ValueError(f"unknown fields for {meta.label}: {set(expressions) - known}")
    qn = connection.ops.quote_name
    columns = ", ".join(qn(f.column) for f in fields)
    slots = ", ".join(
        f"({expressions.get(f.name, expressions.get(f.attname))})"
        if (f.name in expressions or f.attname in expressions)
        else "%s"
        for f in fields
    )
    # Identifiers from the model's metadata, quoted; values are parameters.
    sql = f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({slots})"  # noqa: S608
    if skip_if_exists_on:
        target = ", ".join(qn(meta.get_field(n).column) for n in skip_if_exists_on)
        sql += f" ON CONFLICT ({target}) DO NOTHING"
    sql += f" RETURNING {qn(meta.pk.column)}"
    return sql, fields


def _compile_update(
    model: type[Model], connection, names: tuple[str, ...]
) -> tuple[str, tuple[Field, ...]]:
    meta = model._meta
    named = {meta.get_field(n) for n in names}
    fields = tuple(
        f
        for f in meta.local_concrete_fields
        if f in named
        or getattr(f, "auto_now", False)
        or (isinstance(f, PhoneIndexField) and meta.get_field(f.source) in named)
    )
    if meta.pk in fields:
        raise ValueError("the primary key is not updated")
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(f.column)} = %s" for f in fields)
    sql = (
        f"UPDATE {qn(meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {qn(meta.db_table)}.{qn(meta.pk.column)} = %s"
    )
    return sql, fields


def _compile_filtered_update(
    model: type[Model], connection, where: tuple[str, ...], names: tuple[str, ...]
) -> tuple[str, tuple[Field, ...], tuple[Field, ...]]:
    meta = model._meta
    set_fields = tuple(meta.get_field(n) for n in names)
    where_fields = tuple(meta.get_field(n) for n in where)
    for field in set_fields + where_fields:
        if not field.concrete or isinstance(field, PhoneIndexField):
            raise ValueError(f"{field} cannot be set or matched here")
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(f.column)} = %s" for f in set_fields)
    conditions = " AND ".join(f"{qn(f.column)} = %s" for f in where_fields)
    sql = f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {conditions}"  # noqa: S608
    return sql, set_fields, where_fields


def _check_reproducible(field: Field) -> None:
    pre_save = type(field).pre_save
    if pre_save not in _PLAIN_PRE_SAVE and not isinstance(field, PhoneIndexField):
        raise TypeError(f"{field} computes its value in pre_save: save() it instead")
    if hasattr(field, "get_placeholder"):
        raise TypeError(f"{field} needs its own placeholder: save() it instead")


def _refuse_signals(model: type[Model]) -> None:
    for signal in (signals.pre_save, signals.post_save):
        if signal.has_listeners(model):
            raise TypeError(f"{model._meta.label} has save signals: save() it instead")

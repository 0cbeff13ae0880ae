"""The SQL text of ``core.compiled_sql.writes``' statements, built once
per shape from a model's metadata: identifiers quoted, every value a
parameter. A field whose value ``save()`` computes in a way not
reproduced here, or a model with save signals, is refused."""

from django.db.models import DateField, DateTimeField, Field, Model, signals

from core.fields import PhoneIndexField

# The pre_save methods whose effect the writers reproduce without an
# instance: the attribute itself, auto_now(_add), a phone index.
_PLAIN_PRE_SAVE = (Field.pre_save, DateField.pre_save, DateTimeField.pre_save)


def compile_insert(
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


def compile_update(
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


def compile_filtered_update(
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


def refuse_signals(model: type[Model]) -> None:
    for signal in (signals.pre_save, signals.post_save):
        if signal.has_listeners(model):
            raise TypeError(f"{model._meta.label} has save signals: save() it instead")

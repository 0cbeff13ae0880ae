"""Drop the ``varchar_pattern_ops`` copies PostgreSQL gets of indexed
CharFields (the ``*_like`` indexes), for migrations.

Django adds one beside every indexed or unique ``CharField`` on PostgreSQL
so that ``LIKE 'prefix%'`` can use an index outside the C locale. This
project never filters those columns by a case-sensitive prefix (exact
matches and admin searches, which use ``UPPER(...) LIKE`` and cannot use
either index), while every INSERT and every UPDATE that is not HOT pays
for each copy: a callback's payment UPDATE kept 6 of them in step
(bench/README.md, issue 18). A later ``AlterField`` of such a column may
create its copy again; its own migration then drops it the same way.
"""

from collections.abc import Iterable

from django.db import migrations


def drop_like_indexes(app_label: str, fields: Iterable[tuple[str, str]]):
    """A ``RunPython`` dropping the ``_like`` index of each
    ``(model_name, field_name)`` on PostgreSQL (nothing elsewhere);
    reversed, it creates them again as Django would."""
    fields = tuple(fields)

    def each_index(apps, schema_editor):
        for model_name, field_name in fields:
            model = apps.get_model(app_label, model_name)
            field = model._meta.get_field(field_name)
            name = schema_editor._create_index_name(
                model._meta.db_table, [field.column], suffix="_like"
            )
            yield model, field, name

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        for _model, _field, name in each_index(apps, schema_editor):
            schema_editor.execute(f"DROP INDEX IF EXISTS {quote(name)}")

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for model, field, _name in each_index(apps, schema_editor):
            sql = schema_editor._create_like_index_sql(model, field)
            if sql is not None:
                schema_editor.execute(sql)

    return migrations.RunPython(forwards, backwards, elidable=False)

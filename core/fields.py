"""Model fields for personal data at rest (``core.crypto``).

``EncryptedTextField`` and ``EncryptedJSONField`` store Fernet ciphertext in
a text column and give back the plaintext. Filtering on them raises
``FieldError`` (only ``isnull`` is allowed): an exact match against
ciphertext with a random IV would silently find nothing, so every search by
phone goes through an index column instead (``PhoneIndexField``).

``PhoneIndexField`` is computed from its source field whenever the row is
saved (``pre_save``, which ``save`` and ``bulk_create`` call);
``IndexedPhonesMixin`` adds it to ``update_fields`` when its source is.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact, IsNull

from core import crypto


class EmptyExact(Exact):
    """``field=""``: the one exact match ciphertext allows (``""`` is stored
    as ``""``), e.g. in a check constraint."""

    def __init__(self, lhs, rhs):
        if rhs != "":
            raise FieldError(
                "An encrypted field only matches exactly the empty string."
            )
        super().__init__(lhs, rhs)


class _NoLookups:
    """Refuses every lookup but ``isnull`` and ``=""`` on ciphertext."""

    def get_lookup(self, lookup_name: str):
        if lookup_name == "exact":
            return EmptyExact
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.model.__name__}.{self.name} is encrypted: filter on its "
                "index column (e.g. phone_index), not with "
                f"'{lookup_name}'."
            )
        return IsNull

    def get_transform(self, name: str):
        raise FieldError(f"{self.model.__name__}.{self.name} is encrypted.")


class EncryptedTextField(_NoLookups, models.TextField):
    """Text stored encrypted; ``""`` is stored as ``""``."""

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return crypto.decrypt_text(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return value
        return crypto.encrypt_text(str(value))


class EncryptedJSONField(_NoLookups, models.TextField):
    """A JSON value dumped, then stored encrypted; ``None`` is SQL NULL."""

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return json.loads(crypto.decrypt_text(value))

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        if value is None:
            return value
        return crypto.encrypt_text(json.dumps(value))

    def value_to_string(self, obj) -> str:
        return json.dumps(self.value_from_object(obj))

    def formfield(self, **kwargs):
        return models.JSONField().formfield(**kwargs)


INDEX_FUNCTIONS: dict[str, Callable[[str | None], str]] = {
    "phone": crypto.phone_index,
    "payer": crypto.payer_phone_index,
    "display_mask": crypto.display_masked_key,
    "visible_mask": crypto.visible_masked_key,
}


class PhoneIndexField(models.CharField):
    """A searchable, non-secret column derived from ``source`` by ``kind``
    (``INDEX_FUNCTIONS``): an HMAC index or the visible digits of a mask."""

    def __init__(self, *args, source: str = "", kind: str = "phone", **kwargs):
        self.source = source
        self.kind = kind
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["kind"] = self.kind
        return name, path, args, kwargs

    def pre_save(self, model_instance, add: bool) -> str:
        value = INDEX_FUNCTIONS[self.kind](getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


class IndexedPhonesMixin(models.Model):
    """Keeps index columns in step when ``save(update_fields=...)`` names
    only their source."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            names = set(update_fields)
            extra = {
                f.name
                for f in self._meta.concrete_fields
                if isinstance(f, PhoneIndexField) and f.source in names
            }
            kwargs["update_fields"] = list(names | extra)
        super().save(*args, **kwargs)

"""Issue 18: no ``varchar_pattern_ops`` copies of the hot tables' indexes
(payments 0020, bookings 0008; ``core.like_indexes``), and the migration
reverses to Django's own indexes. PostgreSQL only: SQLite has no such
indexes."""

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
TABLES = (
    "payments_payment",
    "payments_paymentevent",
    "payments_mpesareceipt",
    "bookings_booking",
)


def _indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)",
            [list(TABLES)],
        )
        return dict(cursor.fetchall())


def test_no_like_copies_on_the_hot_tables_and_lookups_keep_their_index():
    indexes = _indexes()
    assert not [name for name in indexes if name.endswith("_like")]
    assert not [d for d in indexes.values() if "pattern_ops" in d]
    columns = " ".join(indexes.values())
    for column in ("checkout_request_id", "phone_index", "receipt_number"):
        assert f"({column})" in columns  # the plain btree or unique index stays
    event_payment = [
        d for d in indexes.values() if "paymentevent" in d and "(payment_id" in d
    ]
    assert len(event_payment) == 1  # (payment_id, created_at) only
    assert "created_at" in event_payment[0]


def test_the_migrations_reverse_to_djangos_like_indexes():
    try:
        call_command("migrate", "payments", "0019", verbosity=0)
        call_command("migrate", "bookings", "0007", verbosity=0)
        likes = [name for name in _indexes() if name.endswith("_like")]
        assert len(likes) == 11
        assert any(n.startswith("payments_payment_checkout_request_id") for n in likes)
    finally:
        call_command("migrate", verbosity=0)
    assert not [name for name in _indexes() if name.endswith("_like")]

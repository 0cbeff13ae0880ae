"""Admin: "Export CSV" (selected rows, or the filtered list) and who may."""

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from bookings.tests.factories import UserFactory
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db
LIST_URL = reverse("admin:payments_payment_changelist")
EXPORT_URL = reverse("admin:payments_payment_export")


def _login(client, group: str) -> None:
    user = UserFactory(staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def _run(client, action: str, payments):
    data = {"action": action, "_selected_action": [p.pk for p in payments], "index": 0}
    return client.post(LIST_URL, data)


def test_export_csv_action_streams_selected_payments(client):
    # given
    _login(client, "Finance")
    paid = PaymentFactory(completed=True, phone_number="254712345678")
    PaymentFactory()

    # when
    response = _run(client, "export_csv", [paid])

    # then
    rows = _csv(response)
    assert rows[0][:5] == ["id", "created_at", "booking_id", "amount", "status"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["id"] == str(paid.pk)
    assert row["status"] == "completed"
    assert row["mpesa_receipt_number"] == paid.mpesa_receipt_number
    assert row["phone"] == "2547******678"


def test_export_filtered_list_follows_filters(client):
    # given
    _login(client, "Finance")
    failed = PaymentFactory(failed=True)
    PaymentFactory(completed=True)

    # when
    response = client.get(EXPORT_URL, {"status__exact": "failed"})

    # then
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    assert [row[0] for row in rows[1:]] == [str(failed.pk)]


def test_export_neutralises_spreadsheet_formulas(client):
    # given
    _login(client, "Finance")
    PaymentFactory(failed=True, result_desc='=HYPERLINK("x")')

    # when
    rows = _csv(client.get(EXPORT_URL))

    # then
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["result_desc"].startswith("'=")


def test_export_refused_for_support(client):
    # given
    _login(client, "Support")

    # when
    response = client.get(EXPORT_URL)

    # then
    assert response.status_code == 403

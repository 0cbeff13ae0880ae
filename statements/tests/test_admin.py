"""The admin: the upload page (Finance only) and the import's page."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from bookings.tests.factories import UserFactory
from statements.models import StatementImport
from statements.tests import support

pytestmark = pytest.mark.django_db
UPLOAD_URL = reverse("admin:statements_statementimport_upload")


def _login(client, group: str):
    user = UserFactory(staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def _upload(client, data: bytes, name: str = "statement.csv"):
    return client.post(UPLOAD_URL, {"statement": SimpleUploadedFile(name, data)})


def test_finance_imports_a_statement_and_sees_its_summary(client):
    # given
    _login(client, "Finance")
    data = support.csv_file([support.paid_in("TLK3ADMIN1", account="HYZZZZZ9")])
    # when
    response = _upload(client, data)
    # then
    record = StatementImport.objects.get()
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    assert "unallocated" in text
    assert (
        reverse("admin:statements_statementline_change", args=[record.lines.get().pk])
        in text
    )


def test_support_may_not_import(client):
    # given
    _login(client, "Support")
    # when
    response = _upload(client, support.csv_file([support.paid_in("TLK3ADMIN2")]))
    # then
    assert response.status_code == 403
    assert not StatementImport.objects.exists()


def test_a_bad_file_shows_the_error_on_the_form(client):
    # given
    _login(client, "Finance")
    # when
    response = _upload(client, b"name,amount\n")
    # then
    assert response.status_code == 200
    assert "missing: Receipt No. header row" in response.content.decode()
    assert not StatementImport.objects.exists()


def test_the_imports_list_offers_the_upload_page_to_finance(client):
    # given
    _login(client, "Finance")
    # when
    response = client.get(reverse("admin:statements_statementimport_changelist"))
    # then
    assert "Import M-Pesa statement" in response.content.decode()


def test_a_lines_page_links_its_receipt(client):
    # given
    _login(client, "Finance")
    _upload(
        client, support.csv_file([support.paid_in("TLK3ADMIN3", account="HYZZZZZ9")])
    )
    line = StatementImport.objects.get().lines.get()
    # when
    response = client.get(
        reverse("admin:statements_statementline_change", args=[line.pk])
    )
    # then
    assert response.status_code == 200
    receipt_url = reverse("admin:payments_mpesareceipt_change", args=[line.receipt_id])
    assert receipt_url in response.content.decode()


def test_support_does_not_see_the_imports(client):
    # given
    _login(client, "Support")
    # when
    response = client.get(reverse("admin:statements_statementimport_changelist"))
    # then
    assert response.status_code == 403

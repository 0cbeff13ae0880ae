"""Review fixes, reading the file: amounts out of range (fix 6), numbers
written with exponents or absurdly long (fix 7), and a corrupt XLSX sheet
(fix 8) are refused with a clear reason, through the parser, the command
and the admin upload page; nothing is written and nothing answers 500."""

import io
import zipfile

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from bookings.tests.factories import UserFactory
from statements.models import StatementImport, StatementLine
from statements.parsing import StatementFormatError, parse_statement
from statements.tests import support
from statements.values import ValueFormatError, parse_amount

pytestmark = pytest.mark.django_db
UPLOAD_URL = reverse("admin:statements_statementimport_upload")


def _block_with(label: str, value: str) -> list[list[str]]:
    block = support.header_block()
    return [[label, value] if row and row[0] == label else row for row in block]


def _truncated_xlsx() -> bytes:
    """A workbook whose first sheet's XML is cut off in the middle."""
    whole = support.xlsx_file([support.paid_in("TLK9XLSX01")])
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(whole)) as source,
        zipfile.ZipFile(out, "w") as target,
    ):
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            target.writestr(item, content)
    return out.getvalue()


BAD_FILES = {
    "paid_in_3e9": (
        support.csv_file([support.paid_in("TLK9BIG001", "3,000,000,000.00")]),
        "Paid In",
    ),
    "withdrawn_3e9": (
        support.csv_file([support.withdrawn("TLK9BIG002", "-3,000,000,000")]),
        "Withdrawn",
    ),
    "balance_1e30": (
        support.csv_file(
            [{**support.paid_in("TLK9BIG003"), "Balance": "1" + "0" * 30}]
        ),
        "Balance",
    ),
    "header_1e30": (
        support.csv_file(
            [support.paid_in("TLK9BIG004")],
            block=_block_with("Opening Balance:", "1" + "0" * 30),
        ),
        "opening balance",
    ),
    "exponent_paid_in": (
        support.csv_file([support.paid_in("TLK9EXP001", "1e999999999")]),
        "Paid In",
    ),
    "exponent_header": (
        support.csv_file(
            [support.paid_in("TLK9EXP002")],
            block=_block_with("Total Paid In:", "1E30"),
        ),
        "total paid in",
    ),
    "year_1": (
        support.csv_file([support.paid_in("TLK9YEAR01", time="01-01-0001 00:00:00")]),
        "Completion Time",
    ),
    # PostgreSQL stores no NUL in text or JSON (a DataError 500 there).
    "nul_in_a_row": (
        support.csv_file([{**support.paid_in("TLK9NUL001"), "Details": "a\x00b"}]),
        "NUL",
    ),
    "nul_in_the_header": (
        support.csv_file(
            [support.paid_in("TLK9NUL002")],
            block=_block_with("Account Holder:", "Haki\x00Yetu"),
        ),
        "NUL",
    ),
    "truncated_xlsx": (_truncated_xlsx(), "XLSX"),
}


@pytest.mark.parametrize("text", ["1e999999999", "1E5", "3000e0", "9" * 500])
def test_parse_amount_refuses_exponents_and_absurd_lengths(text):
    # when / then
    with pytest.raises(ValueFormatError, match="not an amount"):
        parse_amount(text)


@pytest.mark.parametrize("name", BAD_FILES)
def test_parser_names_the_row_or_column_it_refuses(name):
    # given
    data, column = BAD_FILES[name]
    # when / then
    with pytest.raises(StatementFormatError, match=column):
        parse_statement(data, f"{name}.xlsx" if "xlsx" in name else f"{name}.csv")


def test_an_amount_out_of_range_names_its_line():
    # given: the row is the file's 10th line (8 header lines, columns)
    data = support.csv_file([support.paid_in("TLK9BIG005", "3,000,000,000.00")])
    # when / then
    with pytest.raises(StatementFormatError, match=r"line 10: Paid In .*out of range"):
        parse_statement(data, "s.csv")


@pytest.mark.parametrize("name", BAD_FILES)
def test_command_refuses_the_file_and_writes_nothing(tmp_path, name):
    # given
    data, column = BAD_FILES[name]
    path = tmp_path / ("s.xlsx" if "xlsx" in name else "s.csv")
    path.write_bytes(data)
    # when / then
    with pytest.raises(CommandError, match=column):
        call_command("import_statement", str(path))
    assert not StatementImport.objects.exists()
    assert not StatementLine.objects.exists()


@pytest.mark.parametrize("name", BAD_FILES)
def test_admin_upload_shows_the_reason_on_the_form(client, name):
    # given
    user = UserFactory(staff=True)
    user.groups.add(Group.objects.get(name="Finance"))
    client.force_login(user)
    data, column = BAD_FILES[name]
    upload = SimpleUploadedFile("s.xlsx" if "xlsx" in name else "s.csv", data)
    # when
    response = client.post(UPLOAD_URL, {"statement": upload})
    # then
    assert response.status_code == 200
    assert "Not imported" in response.content.decode()
    assert column in response.content.decode()
    assert not StatementImport.objects.exists()

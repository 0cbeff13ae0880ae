"""The cells of an XLSX statement as text, like a CSV's (openpyxl)."""

import io
import zipfile
import zlib
from datetime import date, datetime

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException


class XlsxReadError(ValueError):
    """Not a workbook openpyxl can read."""


# What openpyxl raises on a damaged part: XML parse errors (SyntaxError
# subclasses, from ElementTree or lxml), a cut-off or bad zip member, and
# cells or styles that do not fit its model.
_CORRUPT = (
    SyntaxError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
)


def xlsx_rows(data: bytes) -> list[list[str]]:
    """Every row of the first sheet, each cell as text (numbers without
    float noise, times as ISO)."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, *_CORRUPT) as exc:
        raise XlsxReadError(f"not a readable XLSX workbook ({exc})") from exc
    try:
        sheet = workbook.worksheets[0]
        return [
            [_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)
        ]
    except _CORRUPT as exc:
        # Read-only mode reads the sheet's XML lazily: a truncated or
        # corrupt part fails here, not in load_workbook.
        raise XlsxReadError(f"not a readable XLSX workbook ({exc})") from exc
    finally:
        workbook.close()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()

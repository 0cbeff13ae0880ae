"""statements may use payments and bookings; nothing of theirs imports
statements, and the parser stays free of Django models."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE = ("parsing.py", "header.py", "rows.py", "values.py", "xlsx.py")


def _imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("app", ["payments", "bookings", "core", "accounts"])
def test_no_other_app_imports_statements(app):
    # when
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / app).rglob("*.py")
        if any(name.split(".")[0] == "statements" for name in _imported_names(path))
    ]
    # then
    assert offenders == []


@pytest.mark.parametrize("name", PURE)
def test_the_parser_imports_no_django(name):
    # when
    names = _imported_names(ROOT / "statements" / name)
    # then
    assert not {n for n in names if n.split(".")[0] in ("django", "payments")}

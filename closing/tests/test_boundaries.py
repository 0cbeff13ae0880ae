"""closing reads payments and statements; nothing imports closing, and it
never reaches Daraja."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "app", ["payments", "bookings", "core", "accounts", "statements", "notices"]
)
def test_no_other_app_imports_closing(app):
    # when
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / app).rglob("*.py")
        if any(name.split(".")[0] == "closing" for name in _imported_names(path))
    ]
    # then
    assert offenders == []


def test_closing_never_imports_the_daraja_adapter_or_writes_money():
    # given: only the tests write money (through the real writers)
    sources = [
        path
        for path in (ROOT / "closing").rglob("*.py")
        if "tests" not in path.relative_to(ROOT).parts
    ]
    # when
    names = set().union(*(_imported_names(path) for path in sources))
    # then
    assert not {n for n in names if n.startswith("payments.daraja")}
    assert not {
        n for n in names if n.startswith(("payments.services", "statements.services"))
    }

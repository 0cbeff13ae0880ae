"""Who may import what: the Daraja adapter stays pure, the API, the admin
and bookings never reach into it, the services get their client at one
seam, and the phone rule depends on nothing."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# style.md section 4, plus what the adapter has always used (urllib3's
# exceptions, ImproperlyConfigured and, inside get_client() only,
# django.conf.settings) and the one domain module it applies before
# sending, payments.phone, and the project's time zone, core.time.
ADAPTER_MAY_IMPORT = (
    "requests",
    "urllib3",
    "django.core.cache",
    "django.core.exceptions",
    "django.conf",
    "payments.daraja",
    "payments.phone",
    "core.phone",
    "core.time",
)
# RSA PKCS#1 v1.5 for the SecurityCredential: the adapter's module and
# the simulator's (plus the script that made the simulator's test keys).
CRYPTOGRAPHY_MODULES = {
    ROOT / "payments" / "daraja" / "security.py",
    ROOT / "daraja_simulator" / "credential.py",
    ROOT / "daraja_simulator" / "keys" / "make_keys.py",
    # Personal data at rest: Fernet and its key check (docs/personal-data.md).
    ROOT / "core" / "crypto.py",
}


def _imported_names(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (functions included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _is_within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _is_stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _modules(*folders: str) -> list[Path]:
    return sorted(
        path
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
        if "tests" not in path.relative_to(ROOT).parts
        and "migrations" not in path.relative_to(ROOT).parts
    )


@pytest.mark.parametrize("path", _modules("payments/daraja"), ids=_relative)
def test_daraja_adapter_imports_only_the_stdlib_requests_and_django_cache(path):
    # given a module of the adapter
    # when its imports are read
    names = _imported_names(path)

    # then each is the standard library or one of the few allowed packages
    allowed = ADAPTER_MAY_IMPORT
    if path in CRYPTOGRAPHY_MODULES:
        allowed = (*allowed, "cryptography")
    foreign = {
        name
        for name in names
        if not _is_stdlib(name)
        and name != "__future__"
        and not _is_within(name, allowed)
    }
    assert foreign == set()


@pytest.mark.parametrize(
    "path", _modules("payments", "bookings", "core", "daraja_simulator"), ids=_relative
)
def test_only_the_credential_and_field_crypto_modules_import_cryptography(path):
    # given any module of ours (the adapter, the services, the simulator)
    # when its imports are read
    names = _imported_names(path)

    # then cryptography appears only in the adapter's and the simulator's
    # credential modules and in core.crypto (fields encrypted at rest)
    uses = {n for n in names if _is_within(n, ("cryptography",))}
    assert uses == set() or path in CRYPTOGRAPHY_MODULES


@pytest.mark.parametrize(
    "path", _modules("payments/api", "payments/admin", "bookings"), ids=_relative
)
def test_api_admin_and_bookings_import_no_daraja_module(path):
    # given a module of the API, the admin or bookings
    # when its imports are read
    names = _imported_names(path)

    # then none of them is the Daraja adapter
    assert {n for n in names if _is_within(n, ("payments.daraja",))} == set()


def test_phone_rule_imports_only_the_standard_library():
    # given the domain module for phone numbers
    # when its imports are read
    names = _imported_names(ROOT / "core" / "phone.py")

    # then it depends on nothing but the standard library
    assert {n for n in names if not _is_stdlib(n) and n != "__future__"} == set()


def test_payments_phone_only_re_exports_the_core_rule():
    # given payments' phone module, kept for its importers
    # when its imports are read
    names = _imported_names(ROOT / "payments" / "phone.py")

    # then it imports only the rule in core
    assert names
    assert {n for n in names if not _is_within(n, ("core.phone",))} == set()


def test_time_zone_module_imports_only_the_standard_library():
    # given the module of the project's one time zone (the adapter uses it)
    # when its imports are read
    names = _imported_names(ROOT / "core" / "time.py")

    # then it depends on nothing but the standard library
    assert {n for n in names if not _is_stdlib(n) and n != "__future__"} == set()


# The one seam ``fake_daraja`` patches; a module holding its own reference
# to ``get_client`` or to ``daraja`` would reach the real Daraja in tests.
CLIENT_SEAM = ROOT / "payments" / "services" / "daraja_client.py"


@pytest.mark.parametrize(
    "path",
    [path for path in _modules("payments", "bookings") if path != CLIENT_SEAM],
    ids=_relative,
)
def test_only_the_client_seam_gets_a_daraja_client(path):
    # given any application module but the seam itself
    # when its imports are read
    names = _imported_names(path)

    # then it names neither get_client nor the seam's function directly
    held = {
        "payments.daraja.client.get_client",
        "payments.services.daraja_client.daraja",
    }
    assert names & held == set()


@pytest.mark.parametrize("path", _modules("core"), ids=_relative)
def test_core_imports_neither_payments_nor_observability(path):
    # given a module of core (metric definitions included)
    # when its imports are read
    names = _imported_names(path)

    # then it reaches no app above it
    above = {n for n in names if _is_within(n, ("payments", "observability"))}
    assert above == set()


# Metric definitions live in core.metrics; observability exposes them.
PROMETHEUS_MODULES = {ROOT / "core" / "metrics.py"}


@pytest.mark.parametrize(
    "path", _modules("payments", "bookings", "core", "accounts"), ids=_relative
)
def test_only_core_metrics_imports_prometheus_client(path):
    # given any module of ours outside observability
    # when its imports are read
    names = _imported_names(path)

    # then only the metric definitions use prometheus_client
    uses = {n for n in names if _is_within(n, ("prometheus_client",))}
    assert uses == set() or path in PROMETHEUS_MODULES


@pytest.mark.parametrize(
    "path", _modules("payments", "bookings", "accounts"), ids=_relative
)
def test_apps_never_import_observability(path):
    # given a module of an app observability reads
    # when its imports are read
    names = _imported_names(path)

    # then it does not import observability (no cycle)
    assert {n for n in names if _is_within(n, ("observability",))} == set()

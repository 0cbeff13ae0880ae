"""The simulator is its own program: it imports neither Django nor the
project, so ``python -m daraja_simulator`` runs without either."""

import subprocess
import sys
from pathlib import Path

PROJECT_PACKAGES = {
    "django",
    "rest_framework",
    "payments",
    "bookings",
    "accounts",
    "core",
    "hakiyetu",
}


def test_simulator_imports_neither_django_nor_the_project():
    # given: a fresh interpreter (pytest itself has Django loaded)
    script = (
        "import sys, daraja_simulator, daraja_simulator.__main__\n"
        "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    # when
    loaded = subprocess.run(  # noqa: S603 - our own interpreter, fixed argv
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    # then
    assert "daraja_simulator" in loaded
    assert PROJECT_PACKAGES.isdisjoint(loaded)

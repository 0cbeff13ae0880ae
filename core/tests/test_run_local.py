"""``make run PORT=… SIMULATOR_PORT=…`` / ``run_local --port --simulator-port``.

The ports given on the command line, not the ones the local ``.env`` was
written with, are where the web app sends its pushes (the simulator) and
where the simulator sends its callbacks (the web app), without editing
``.env``.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from core.management.commands.run_local import _processes
from hakiyetu.localenv import local_c2b_urls, local_urls

BASE_DIR = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-callback-path-0123456789abcdef"
LOCAL_ENV = {
    # as hakiyetu.localenv writes them for the default ports
    "MPESA_BASE_URL": "http://127.0.0.1:8765",
    "MPESA_CALLBACK_URL": f"http://127.0.0.1:8000/api/payment/callback/{SECRET}",
    "MPESA_CALLBACK_SECRET": SECRET,
}


def test_run_local_points_every_child_at_the_ports_given(settings):
    # given: the .env written for 8000 / 8765
    for name, value in LOCAL_ENV.items():
        setattr(settings, name, value)

    # when
    processes = {spec.name: spec for spec in _processes(8100, 8200)}

    # then: the simulator and the web server listen there ...
    assert processes["simulator"].argv[-2:] == ["--port", "8200"]
    assert "127.0.0.1:8100" in processes["web"].argv
    # ... and every process (the worker pushes too) talks to those ports
    for spec in processes.values():
        assert spec.env["MPESA_BASE_URL"] == "http://127.0.0.1:8200", spec.name
        callback = spec.env["MPESA_CALLBACK_URL"]
        assert callback == f"http://127.0.0.1:8100/api/payment/callback/{SECRET}"
        assert callback.endswith(settings.MPESA_CALLBACK_SECRET)


def test_run_local_keeps_the_environment_of_its_children(settings, monkeypatch):
    # given
    for name, value in LOCAL_ENV.items():
        setattr(settings, name, value)
    monkeypatch.setenv("HAKIYETU_MARKER", "kept")

    # when
    (web,) = [spec for spec in _processes(8100, 8200) if spec.name == "web"]

    # then
    assert web.env["HAKIYETU_MARKER"] == "kept"


def test_local_urls_leave_a_real_daraja_and_a_public_callback_alone():
    # given: a developer who points at the Daraja sandbox through a tunnel
    base = "https://sandbox.safaricom.co.ke"
    callback = f"https://abc.example.app/api/payment/callback/{SECRET}"

    # when
    urls = local_urls(base, callback, SECRET, web_port=8100, simulator_port=8200)

    # then
    assert urls == {"MPESA_BASE_URL": base, "MPESA_CALLBACK_URL": callback}


def test_local_urls_build_a_callback_url_when_none_is_set():
    # given / when
    urls = local_urls("", "", SECRET, web_port=8100, simulator_port=8200)

    # then
    assert urls == {
        "MPESA_BASE_URL": "http://127.0.0.1:8200",
        "MPESA_CALLBACK_URL": f"http://127.0.0.1:8100/api/payment/callback/{SECRET}",
    }


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_make_run_passes_its_ports_to_run_local():
    # given / when: what `make run PORT=8100 SIMULATOR_PORT=8200` would run
    dry = subprocess.run(  # noqa: S603 - fixed argv
        ["make", "-n", "--always-make", "run", "PORT=8100", "SIMULATOR_PORT=8200"],  # noqa: S607
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )

    # then
    (line,) = [ln for ln in dry.stdout.splitlines() if "run_local" in ln]
    assert line.endswith("run_local --port 8100 --simulator-port 8200")


def test_run_local_gives_every_child_c2b_urls_on_the_web_port(settings):
    # given: the .env has no C2B URLs
    for name, value in LOCAL_ENV.items():
        setattr(settings, name, value)
    settings.MPESA_C2B_SECRET = SECRET
    settings.MPESA_C2B_CONFIRMATION_URL = ""
    settings.MPESA_C2B_VALIDATION_URL = "http://localhost:8000/api/payment/c2b/v/x"

    # when
    (web,) = [spec for spec in _processes(8100, 8200) if spec.name == "web"]

    # then: what mpesa_register_c2b_urls registers with the simulator
    assert web.env["MPESA_C2B_CONFIRMATION_URL"] == (
        f"http://127.0.0.1:8100/api/payment/c2b/confirmation/{SECRET}"
    )
    assert web.env["MPESA_C2B_VALIDATION_URL"] == (
        "http://127.0.0.1:8100/api/payment/c2b/v/x"
    )


def test_local_c2b_urls_leave_a_public_url_alone():
    # given
    public = f"https://abc.ngrok.example/api/payment/c2b/confirmation/{SECRET}"
    # when
    urls = local_c2b_urls(public, "", SECRET, web_port=8100)
    # then
    assert urls["MPESA_C2B_CONFIRMATION_URL"] == public

"""deploy/: gunicorn's settings and masked access log, and nginx's site."""

import datetime
import os
import runpy
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from gunicorn.config import Config

from core.gunicorn_logging import MaskingLogger

BASE_DIR = Path(__file__).resolve().parents[2]
DEPLOY = BASE_DIR / "deploy"
SECRET = "callback-secret-that-must-never-be-logged-0123"


def _gunicorn_settings(**env: str) -> dict:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_gunicorn_outlasts_the_slowest_daraja_call_and_uses_threads():
    conf = _gunicorn_settings(MPESA_CONNECT_TIMEOUT="5", MPESA_READ_TIMEOUT="30")
    assert conf["worker_class"] == "gthread"
    assert conf["workers"] >= 2
    assert conf["threads"] >= 2
    # a push is a token fetch plus the push: both may take connect + read
    assert conf["timeout"] > 2 * (5 + 30)
    assert conf["logger_class"] == "core.gunicorn_logging.MaskingLogger"

    longer = _gunicorn_settings(MPESA_CONNECT_TIMEOUT="10", MPESA_READ_TIMEOUT="60")
    assert longer["timeout"] > 2 * (10 + 60)


def test_access_log_fields_are_masked():
    logger = MaskingLogger(Config())
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/api/payment/callback/{SECRET}?msisdn=254712345678",
        "PATH_INFO": f"/api/payment/callback/{SECRET}",
        "QUERY_STRING": "msisdn=254712345678",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    request = SimpleNamespace(
        headers=[("AUTHORIZATION", "Bearer token-value"), ("USER-AGENT", "x")]
    )
    response = SimpleNamespace(status="200 OK", sent=2, headers=[])
    atoms = logger.atoms(response, request, environ, datetime.timedelta(seconds=1))

    logged = " ".join(str(value) for value in atoms.values())
    assert SECRET not in logged
    assert "254712345678" not in logged
    assert "token-value" not in logged
    assert "/api/payment/callback/***" in atoms["r"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_started_with_the_deploy_config_logs_no_secret(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "2",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": "locmemcache://",
        "MPESA_CALLBACK_SECRET": SECRET,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(  # noqa: S603 - fixed argv
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "-c",
            str(DEPLOY / "gunicorn.conf.py"),
            "hakiyetu.wsgi",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("gunicorn did not start")
                time.sleep(0.2)
        requests.post(
            f"{url}/api/payment/callback/{SECRET}?phone=254712345678",
            data=b"{}",
            headers={"X-Request-ID": "deploy-test-1"},
            timeout=10,
        )
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)

    access_lines = [line for line in output.splitlines() if "/api/payment/" in line]
    assert access_lines, output[-2000:]
    assert SECRET not in output
    assert "254712345678" not in output
    assert any("/api/payment/callback/***" in line for line in access_lines)


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_site_is_valid_and_limits_callback_bodies(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pay.example.co.ke")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    site = (DEPLOY / "nginx" / "hakiyetu.conf").read_text()
    assert "client_max_body_size 64k;" in site
    assert "proxy_pass http://$hakiyetu_status_upstream;" in site  # ?wait= to ASGI
    live = "/etc/letsencrypt/live/pay.example.co.ke"
    site = site.replace(f"{live}/fullchain.pem", str(tmp_path / "cert.pem"))
    site = site.replace(f"{live}/privkey.pem", str(tmp_path / "key.pem"))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{ access_log off; include {tmp_path}/site.conf; }}\n"
    )
    result = subprocess.run(  # noqa: S603 - fixed argv
        [
            shutil.which("nginx"),
            "-t",
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _unit_command(unit: str) -> list[str]:
    [line] = [
        line
        for line in (DEPLOY / "systemd" / unit).read_text().splitlines()
        if line.startswith("ExecStart=")
    ]
    return shlex.split(line.removeprefix("ExecStart="))


def test_the_asgi_unit_starts_uvicorn_with_its_flags(tmp_path):
    # given: the unit's own command, on a port of this test, not its socket
    command = _unit_command("hakiyetu-asgi.service")
    assert command[0].endswith("/uvicorn")
    assert "hakiyetu.asgi:application" in command
    port = _free_port()
    uds = command.index("--uds")
    command[uds : uds + 2] = ["--host", "127.0.0.1", "--port", str(port)]
    command[command.index("--workers") + 1] = "1"
    env = {
        **os.environ,
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": "locmemcache://",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = subprocess.Popen(  # noqa: S603 - the unit's argv
        [sys.executable, "-m", "uvicorn", *command[1:]],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # when
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("uvicorn did not start")
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=60)
    # then
    assert answer.status_code == 200

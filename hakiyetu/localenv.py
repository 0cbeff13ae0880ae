"""Write a local ``.env`` for development and tests, once.

``make run`` and ``make test`` call ``python -m hakiyetu.localenv`` so that a
fresh clone works without any set-up: it generates a secret key, a callback
secret, a result secret and simulator credentials, points Daraja at the local
simulator, and gives the initiator the simulator's password and test
certificate.
An existing ``.env`` is only given what it lacks of ``added_later_lines``
(the field encryption keys, for a clone made before them). Not for
production: there, every variable comes from the deployment's environment.
"""

import base64
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from payments.callback_url import url_secret

SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
# The simulator's defaults (daraja_simulator/config.py) and its shipped test
# certificate (daraja_simulator/keys/README.md: a public test key pair).
SIMULATOR_INITIATOR_NAME = "testapi"
SIMULATOR_INITIATOR_PASSWORD = "Safaricom999!*!"  # noqa: S105 - public test value
SIMULATOR_CERTIFICATE = "daraja_simulator/keys/simulator-cert.pem"
SIMULATOR_PORT = 8765
WEB_PORT = 8000
CALLBACK_PATH = "/api/payment/callback/"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def local_env_lines() -> list[str]:
    """The variables of a local development ``.env``, freshly generated."""
    callback_secret = url_secret()
    return [
        "# Written by `python -m hakiyetu.localenv` for local use only.",
        f"SECRET_KEY={secrets.token_urlsafe(50)}",
        "DEBUG=1",
        "MPESA_ENVIRONMENT=sandbox",
        f"MPESA_BASE_URL=http://127.0.0.1:{SIMULATOR_PORT}",
        f"MPESA_CONSUMER_KEY=local-{secrets.token_hex(8)}",
        f"MPESA_CONSUMER_SECRET={secrets.token_hex(16)}",
        "MPESA_BUSINESS_SHORT_CODE=174379",
        f"MPESA_PASSKEY={SANDBOX_PASSKEY}",
        f"MPESA_CALLBACK_SECRET={callback_secret}",
        "MPESA_CALLBACK_URL="
        f"http://127.0.0.1:{WEB_PORT}{CALLBACK_PATH}{callback_secret}",
        f"MPESA_INITIATOR_NAME={SIMULATOR_INITIATOR_NAME}",
        f"MPESA_INITIATOR_PASSWORD={SIMULATOR_INITIATOR_PASSWORD}",
        f"MPESA_CERTIFICATE_PATH={SIMULATOR_CERTIFICATE}",
        f"MPESA_RESULT_SECRET={url_secret()}",
        *added_later_lines(),
    ]


def added_later_lines() -> list[str]:
    """Variables an older local ``.env`` may lack: the Fernet key that
    encrypts personal data and the key of the phone search index."""
    fernet_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return [
        f"FIELD_ENCRYPTION_KEYS={fernet_key}",
        f"FIELD_HASH_KEY={secrets.token_urlsafe(32)}",
    ]


def missing_lines(existing: str) -> list[str]:
    """The ``added_later_lines`` whose variable ``existing`` does not set."""
    names = {
        line.split("=", 1)[0].strip()
        for line in existing.splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    return [line for line in added_later_lines() if line.split("=")[0] not in names]


def local_urls(
    base_url: str,
    callback_url: str,
    callback_secret: str,
    *,
    web_port: int,
    simulator_port: int,
) -> dict[str, str]:
    """``MPESA_BASE_URL`` and ``MPESA_CALLBACK_URL`` for ``run_local``'s ports.

    A URL on this machine (or none) is moved to the port given: the
    simulator's for Daraja, the web server's for the callback, whose path
    (ending in ``callback_secret``) is kept. A URL elsewhere (the real
    sandbox, a tunnel to this machine) is left as it is.
    """
    base = urlsplit(base_url)
    if not base_url or base.hostname in _LOOPBACK:
        base_url = f"http://127.0.0.1:{simulator_port}"
    callback = urlsplit(callback_url)
    if not callback_url:
        callback_url = f"http://127.0.0.1:{web_port}{CALLBACK_PATH}{callback_secret}"
    elif callback.hostname in _LOOPBACK:
        callback_url = urlunsplit(
            callback._replace(scheme="http", netloc=f"127.0.0.1:{web_port}")
        )
    return {"MPESA_BASE_URL": base_url, "MPESA_CALLBACK_URL": callback_url}


C2B_PATH = "/api/payment/c2b/"


def local_c2b_urls(
    confirmation_url: str, validation_url: str, c2b_secret: str, *, web_port: int
) -> dict[str, str]:
    """``MPESA_C2B_CONFIRMATION_URL`` and ``MPESA_C2B_VALIDATION_URL`` for
    ``run_local``: unset ones are built on the web server's port (ending in
    ``c2b_secret``), ones on this machine moved to that port, others kept."""
    urls = {}
    for name, kind, url in (
        ("MPESA_C2B_CONFIRMATION_URL", "confirmation", confirmation_url),
        ("MPESA_C2B_VALIDATION_URL", "validation", validation_url),
    ):
        parts = urlsplit(url)
        if not url:
            url = f"http://127.0.0.1:{web_port}{C2B_PATH}{kind}/{c2b_secret}"
        elif parts.hostname in _LOOPBACK:
            url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{web_port}"))
        urls[name] = url
    return urls


RESULT_PATHS = {
    "MPESA_RESULT_URL": "/api/payment/result/",
    "MPESA_QUEUE_TIMEOUT_URL": "/api/payment/timeout/",
}


def local_result_urls(
    result_url: str, timeout_url: str, result_secret: str, *, web_port: int
) -> dict[str, str]:
    """``MPESA_RESULT_URL`` and ``MPESA_QUEUE_TIMEOUT_URL`` for ``run_local``:
    unset ones built on the web server's port (ending in ``result_secret``),
    ones on this machine moved to that port, others kept."""
    urls = {}
    for name, url in (
        ("MPESA_RESULT_URL", result_url),
        ("MPESA_QUEUE_TIMEOUT_URL", timeout_url),
    ):
        parts = urlsplit(url)
        if not url:
            url = f"http://127.0.0.1:{web_port}{RESULT_PATHS[name]}{result_secret}"
        elif parts.hostname in _LOOPBACK:
            url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{web_port}"))
        urls[name] = url
    return urls


def is_local(url: str) -> bool:
    """Whether ``url`` points at this machine."""
    return urlsplit(url).hostname in _LOOPBACK


def ensure_local_env(target: Path) -> str:
    """Write ``target`` if missing, else add the keys it lacks; returns
    what was done, for the terminal ("" when nothing)."""
    if not target.exists():
        target.write_text("\n".join(local_env_lines()) + "\n")
        target.chmod(0o600)
        return f"wrote {target} with generated local secrets\n"
    missing = missing_lines(target.read_text())
    if not missing:
        return ""
    with target.open("a") as env_file:
        env_file.write("\n".join(["", *missing]) + "\n")
    return f"added {len(missing)} generated keys to {target}\n"


def main() -> int:
    target = Path(__file__).resolve().parent.parent / ".env"
    sys.stderr.write(ensure_local_env(target))
    return 0


if __name__ == "__main__":
    sys.exit(main())

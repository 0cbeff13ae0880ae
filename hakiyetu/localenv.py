"""Write a local ``.env`` for development and tests, once.

``make run`` and ``make test`` call ``python -m hakiyetu.localenv`` so that a
fresh clone works without any set-up: it generates a secret key, a callback
secret and simulator credentials, and points Daraja at the local simulator.
An existing ``.env`` is never touched. Not for production: there, every
variable comes from the deployment's environment.
"""

import secrets
import sys
from pathlib import Path

SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
SIMULATOR_PORT = 8765
WEB_PORT = 8000


def local_env_lines() -> list[str]:
    """The variables of a local development ``.env``, freshly generated."""
    callback_secret = secrets.token_urlsafe(24)
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
        f"http://127.0.0.1:{WEB_PORT}/api/payment/callback/{callback_secret}",
    ]


def main() -> int:
    target = Path(__file__).resolve().parent.parent / ".env"
    if target.exists():
        return 0
    target.write_text("\n".join(local_env_lines()) + "\n")
    target.chmod(0o600)
    sys.stderr.write(f"wrote {target} with generated local secrets\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

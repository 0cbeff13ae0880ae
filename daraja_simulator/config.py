"""Settings of one simulator instance, and their command-line form.

The same arguments serve ``python -m daraja_simulator`` and
``python manage.py daraja_simulator``; only the source of the credential
defaults differs (environment variables or Django settings).
"""

import argparse
import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SANDBOX_SHORT_CODE = "174379"
SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
# The sandbox's well-known initiator password (Daraja's test credentials).
SANDBOX_INITIATOR_PASSWORD = "Safaricom999!*!"  # noqa: S105 - public test value

# Fields that POST /simulator/config may change while the server runs.
RUNTIME_FIELDS = (
    "callback_delay",
    "stk_lifetime",
    "late_callback_delay",
    "response_delay",
    "token_lifetime",
    "invalidate_previous_tokens",
    "lock_subscriber",
    "timestamp_tolerance",
    "forbid_callback_keywords",
    "include_balance_item",
    "callback_timeout",
    "c2b_validation_timeout",
    "c2b_production_style",
    "c2b_double_notification",
    "initiator_password",
    "b2c_initiator_password",
    "result_delay",
    "b2c_balance",
    "pull_page_size",
)
# Credentials: taken from settings or the environment, masked when shown.
SECRET_FIELDS = (
    "consumer_secret",
    "passkey",
    "initiator_password",
    "b2c_initiator_password",
)


@dataclass(slots=True)
class SimulatorConfig:
    """Credentials, timings and switches of a simulator.

    Times are in seconds. ``callback_delay`` is how long a customer takes
    to answer the prompt (outcomes 0, 1, 17, 1032, 2001, SFC_IC0003);
    ``stk_lifetime`` is how long an unanswered prompt lives before it ends
    in 1037 or 1019. Either one is when the STK query turns final and the
    callback is sent.

    Paybill (C2B): ``c2b_validation_timeout`` is how long the validation
    URL has to answer (Daraja: about 8 s); ``c2b_production_style`` makes a
    second URL registration for a shortcode fail as in production;
    ``c2b_double_notification`` also sends a C2B confirmation for every
    successful STK push.

    Reversal, B2C and Transaction Status: the SecurityCredential must
    decrypt (with the shipped test key, ``private_key_path`` to override)
    to ``initiator_password`` (B2C: ``b2c_initiator_password``), else the
    result is 2001. Results are POSTed ``result_delay`` after the answer.
    B2C pays out of ``b2c_balance`` (KES); short of it, the result is 1.

    Pull Transactions answers at most ``pull_page_size`` rows a query.
    """

    consumer_key: str = "simulator-key"
    consumer_secret: str = "simulator-secret"  # noqa: S105 - local fake
    short_code: str = SANDBOX_SHORT_CODE
    passkey: str = SANDBOX_PASSKEY
    host: str = "127.0.0.1"
    port: int = 8765
    callback_delay: float = 2.0
    stk_lifetime: float = 10.0
    late_callback_delay: float = 240.0
    response_delay: float = 0.0
    token_lifetime: int = 3599
    invalidate_previous_tokens: bool = True
    lock_subscriber: bool = True
    timestamp_tolerance: float = 300.0
    forbid_callback_keywords: bool = True
    include_balance_item: bool = True
    callback_timeout: float = 10.0
    c2b_validation_timeout: float = 8.0
    c2b_production_style: bool = False
    c2b_double_notification: bool = False
    initiator_password: str = SANDBOX_INITIATOR_PASSWORD
    b2c_initiator_password: str = SANDBOX_INITIATOR_PASSWORD
    result_delay: float = 1.0
    b2c_balance: int = 1_000_000
    pull_page_size: int = 1000
    private_key_path: str = ""
    seed: int | None = None
    log_limit: int = 200_000

    def updated(self, changes: Mapping[str, Any]) -> "SimulatorConfig":
        """A copy with runtime ``changes`` applied; unknown keys raise."""
        unknown = set(changes) - set(RUNTIME_FIELDS)
        if unknown:
            raise ValueError(f"not changeable at runtime: {sorted(unknown)}")
        typed = {
            name: _typed(getattr(self, name), value) for name, value in changes.items()
        }
        return dataclasses.replace(self, **typed)

    def public(self) -> dict[str, Any]:
        """The settings without the consumer secret and passkey."""
        data = dataclasses.asdict(self)
        for name in SECRET_FIELDS:
            data[name] = "***"
        return data


def _typed(current: object, value: object) -> object:
    """``value`` converted to the type of ``current``; ValueError if unfit."""
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, not {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a number, not {value!r}")
    return type(current)(value)


def add_arguments(parser: argparse.ArgumentParser, defaults: Mapping[str, str]) -> None:
    """Declare the simulator's options; ``defaults`` fills credentials."""
    base = SimulatorConfig()
    parser.add_argument("--host", default=base.host)
    parser.add_argument("--port", type=int, default=base.port)
    for name in (
        "consumer_key",
        "consumer_secret",
        "short_code",
        "passkey",
        "initiator_password",
        "b2c_initiator_password",
    ):
        parser.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            default=defaults.get(name) or getattr(base, name),
        )
    parser.add_argument("--callback-delay", type=float, default=base.callback_delay)
    parser.add_argument("--stk-lifetime", type=float, default=base.stk_lifetime)
    parser.add_argument(
        "--late-callback-delay", type=float, default=base.late_callback_delay
    )
    parser.add_argument("--response-delay", type=float, default=base.response_delay)
    parser.add_argument(
        "--result-delay",
        type=float,
        default=base.result_delay,
        help="seconds before a Reversal/B2C/Transaction Status result is POSTed",
    )
    parser.add_argument("--token-lifetime", type=int, default=base.token_lifetime)
    parser.add_argument(
        "--keep-previous-tokens",
        dest="invalidate_previous_tokens",
        action="store_false",
        help="a new token does not invalidate the previous one",
    )
    parser.add_argument(
        "--no-lock-subscriber",
        dest="lock_subscriber",
        action="store_false",
        help="allow a second push while a prompt is open",
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--allow-production",
        action="store_true",
        help="start even with DEBUG off (the simulator pays anything)",
    )


def production_refusal(*, debug: bool, allow_production: bool) -> str | None:
    """Why the simulator will not start, or None.

    It accepts any credentials-shaped push and "pays" it: next to a
    production app (DEBUG off) it is a mistake unless asked for.
    """
    if debug or allow_production:
        return None
    return (
        "refusing to start the Daraja simulator with DEBUG off: it is for "
        "local development. Set DEBUG=1, or pass --allow-production."
    )


def env_flag(value: str | None) -> bool:
    """A boolean environment variable as Django's settings read it."""
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def config_from_arguments(options: Mapping[str, Any]) -> SimulatorConfig:
    """Build a config from parsed options (argparse or Django's dict)."""
    names = {field.name for field in dataclasses.fields(SimulatorConfig)}
    return SimulatorConfig(
        **{key: value for key, value in options.items() if key in names}
    )


def env_defaults(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Credential defaults from ``MPESA_*`` environment variables."""
    return {
        "consumer_key": environ.get("MPESA_CONSUMER_KEY", ""),
        "consumer_secret": environ.get("MPESA_CONSUMER_SECRET", ""),
        "short_code": environ.get("MPESA_BUSINESS_SHORT_CODE", ""),
        "passkey": environ.get("MPESA_PASSKEY", ""),
        "initiator_password": environ.get("MPESA_INITIATOR_PASSWORD", ""),
        "b2c_initiator_password": environ.get("MPESA_B2C_INITIATOR_PASSWORD", ""),
    }

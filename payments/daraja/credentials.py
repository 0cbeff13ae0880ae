"""The STK ``Timestamp`` and ``Password`` (daraja.md section 2)."""

from __future__ import annotations

import base64
from datetime import datetime
from zoneinfo import ZoneInfo

# Daraja reads the timestamp as Kenyan wall-clock time (EAT, UTC+3, no DST).
# Django sets os.environ["TZ"], so a naive now() is the wrong clock.
NAIROBI = ZoneInfo("Africa/Nairobi")
TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"


def daraja_timestamp(now: datetime | None = None) -> str:
    """Return ``YYYYMMDDHHMMSS`` in Africa/Nairobi time, whatever the TZ.

    Raises:
        ValueError: ``now`` is naive (its zone would be a guess).
    """
    if now is None:
        now = datetime.now(tz=NAIROBI)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("daraja_timestamp() needs an aware datetime")
    return now.astimezone(NAIROBI).strftime(TIMESTAMP_FORMAT)


def stk_password(shortcode: str, passkey: str, timestamp: str) -> str:
    """Return ``base64(shortcode + passkey + timestamp)`` (no hashing)."""
    raw = f"{shortcode}{passkey}{timestamp}".encode()
    return base64.b64encode(raw).decode("ascii")

"""A local spool for callbacks that arrive while the database is down.

(STK callbacks and C2B confirmations alike; each file names its endpoint.)

Daraja does not retry a callback (../shared/daraja.md section 5): if we
cannot store one, its receipt is gone. So when storing fails because the
database cannot be reached (never for a row it refuses, which it would
refuse again on every replay), the intake (``payments.services.callbacks``)
writes the raw body here, to a file in ``CALLBACK_SPOOL_DIR`` (written
atomically and fsynced), and Daraja gets its 200. This module only keeps
files; the intake replays them through its normal path: after the next
callback it stores, from the periodic reconciliation, and from
``manage.py replay_callbacks`` (run it on every web host after an outage:
the spool is local to the machine). A file that cannot be replayed for what
it holds moves to ``quarantine/`` with a ``.error.txt`` beside it, so it
never holds back the files after it.
"""

import base64
import json
import logging
import os
import traceback
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from payments.services.events import CALLBACK_HEADERS

logger = logging.getLogger(__name__)

# The endpoints whose requests are spooled (the replay picks the intake).
STK_CALLBACK = "stk_callback"
C2B_CONFIRMATION = "c2b_confirmation"
# Reversal/B2C/Transaction Status results and queue time-out notices.
DARAJA_RESULT = "daraja_result"
DARAJA_QUEUE_TIMEOUT = "daraja_queue_timeout"


@dataclass(frozen=True, slots=True)
class SpoolReplay:
    """What one replay did: files stored, set aside, and still waiting."""

    replayed: int
    quarantined: int
    left: int


@dataclass(frozen=True, slots=True)
class ClaimedFile:
    """One spooled callback claimed by this process (renamed aside)."""

    path: Path
    original: Path

    def __str__(self) -> str:
        return self.original.name

    def read(self) -> dict:
        """The stored callback as keyword arguments for the intake
        (raises ValueError/KeyError for a file that is not one)."""
        record = json.loads(self.path.read_bytes())
        return {
            "raw_body": base64.b64decode(record["body"], validate=True),
            "source_ip": record["source_ip"],
            "headers": record["headers"],
            # Files written before C2B confirmations were spooled are STK.
            "endpoint": record.get("endpoint", STK_CALLBACK),
        }

    def done(self) -> None:
        """Stored in the database: the file goes."""
        self.path.unlink()

    def release(self) -> None:
        """Not stored (the database is still down): back in the spool."""
        os.rename(self.path, self.original)

    def quarantine(self) -> None:
        """Cannot be replayed: aside, with why (call while handling it)."""
        folder = spool_dir() / "quarantine"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{self.original.name}.error.txt").write_text(traceback.format_exc())
        os.replace(self.path, folder / self.original.name)
        logger.exception("spooled callback %s quarantined", self.original.name)


def spool_dir() -> Path:
    """The spool folder (``CALLBACK_SPOOL_DIR``)."""
    return Path(settings.CALLBACK_SPOOL_DIR)


def spool_write(
    *,
    raw_body: bytes,
    source_ip: str | None,
    headers: Mapping[str, str],
    endpoint: str = STK_CALLBACK,
) -> Path:
    """Keep one callback on local disk; raises OSError if even that fails.

    ``endpoint``: which of our URLs received it (``STK_CALLBACK`` or
    ``C2B_CONFIRMATION``), so the replay applies it the same way."""
    directory = spool_dir()
    directory.mkdir(parents=True, exist_ok=True)
    record = {
        "endpoint": endpoint,
        "received_at": timezone.now().isoformat(),
        "source_ip": source_ip,
        "headers": {k: headers[k] for k in CALLBACK_HEADERS if k in headers},
        "body": base64.b64encode(raw_body).decode(),
    }
    name = f"{timezone.now():%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex}.json"
    temporary = directory / f".{name}.tmp"
    with open(temporary, "w") as handle:
        json.dump(record, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, directory / name)
    return directory / name


def spool_pending() -> bool:
    """Whether spooled callbacks wait (one directory listing)."""
    try:
        with os.scandir(spool_dir()) as entries:
            return any(entry.name.endswith(".json") for entry in entries)
    except FileNotFoundError:
        return False


def spool_count() -> int:
    """How many spooled callbacks wait."""
    return sum(1 for _ in spool_dir().glob("*.json"))


def spool_claim(*, limit: int) -> Iterator[ClaimedFile]:
    """Claim spooled callbacks, oldest first, one at a time, by renaming
    each (a file another process took first is skipped)."""
    for path in sorted(spool_dir().glob("*.json"))[:limit]:
        claimed = path.with_suffix(".replaying")
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            continue  # another process took it
        yield ClaimedFile(claimed, path)

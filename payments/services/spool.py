"""A local spool for callbacks that arrive while the database is down.

Daraja does not retry a callback (../shared/daraja.md section 5): if we
cannot store one, its receipt is gone. So when storing fails because the
database cannot be reached (``OperationalError``, ``InterfaceError``; never
for a row it refuses, which would refuse it again on every replay), the raw
body goes to a file in ``CALLBACK_SPOOL_DIR`` (written atomically and
fsynced) and Daraja gets its 200. The spool is replayed through the normal
path by the next callback this process stores, by the periodic
reconciliation, and by ``manage.py replay_callbacks`` (run it on every web
host after an outage: the spool is local to the machine). A file that
cannot be replayed for what it holds moves to ``quarantine/`` with a
``.error.txt`` beside it, so it never holds back the files after it.
"""

import base64
import contextlib
import json
import logging
import os
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.utils import timezone

from payments.services.callbacks import CallbackMalformed, payment_receive_callback
from payments.services.events import CALLBACK_HEADERS

logger = logging.getLogger(__name__)

# Spooled callbacks replayed inside one live callback request, at most.
INLINE_REPLAY_LIMIT = 20
# The database cannot be reached (as opposed to refusing a row).
CONNECTION_LOST = (OperationalError, InterfaceError)
# What a spool file can raise for its content when replayed: unreadable
# JSON or base64 (ValueError), missing or mistyped fields, a row the
# database refuses.
CONTENT_ERRORS = (ValueError, KeyError, TypeError, AttributeError, DatabaseError)


@dataclass(frozen=True, slots=True)
class SpoolReplay:
    """What one replay did: files stored, set aside, and still waiting."""

    replayed: int
    quarantined: int
    left: int


def _spool_dir() -> Path:
    return Path(settings.CALLBACK_SPOOL_DIR)


def callback_spool_write(
    *, raw_body: bytes, source_ip: str | None, headers: Mapping[str, str]
) -> Path:
    """Keep one callback on local disk; raises OSError if even that fails."""
    directory = _spool_dir()
    directory.mkdir(parents=True, exist_ok=True)
    record = {
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


def callback_spool_pending() -> bool:
    """Whether spooled callbacks wait (one directory listing)."""
    try:
        with os.scandir(_spool_dir()) as entries:
            return any(entry.name.endswith(".json") for entry in entries)
    except FileNotFoundError:
        return False


def payment_replay_spooled_callbacks(*, limit: int = 500) -> SpoolReplay:
    """Store and apply spooled callbacks, oldest first.

    Each file is claimed by renaming it, so concurrent replays never apply
    one twice (and applying is idempotent anyway). A malformed callback is
    stored with its error, like a live one. A file that cannot be replayed
    for its content moves to the quarantine folder; a lost database
    connection stops the replay, leaving that file and the rest for later.
    """
    replayed = quarantined = 0
    for path in sorted(_spool_dir().glob("*.json"))[:limit]:
        claimed = path.with_suffix(".replaying")
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            continue  # another process took it
        try:
            _replay_file(claimed)
        except CONNECTION_LOST:
            os.rename(claimed, path)
            logger.warning("database still unavailable; %s stays spooled", path.name)
            break
        except CONTENT_ERRORS:
            _quarantine(claimed, original=path)
            quarantined += 1
            continue
        claimed.unlink()
        replayed += 1
    left = sum(1 for _ in _spool_dir().glob("*.json"))
    if replayed or quarantined:
        logger.info(
            "spool: replayed %s, quarantined %s, left %s", replayed, quarantined, left
        )
    return SpoolReplay(replayed=replayed, quarantined=quarantined, left=left)


def _replay_file(path: Path) -> None:
    """Store and apply one spooled callback (raises as the replay says)."""
    record = json.loads(path.read_bytes())
    # A malformed callback is stored with its error, like a live one.
    with contextlib.suppress(CallbackMalformed):
        payment_receive_callback(
            raw_body=base64.b64decode(record["body"], validate=True),
            source_ip=record["source_ip"],
            headers=record["headers"],
        )


def _quarantine(claimed: Path, *, original: Path) -> None:
    """Move a file that cannot be replayed aside, with why beside it.

    Called while the replay's exception is being handled."""
    folder = _spool_dir() / "quarantine"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / original.name
    (folder / f"{original.name}.error.txt").write_text(traceback.format_exc())
    os.replace(claimed, target)
    logger.exception("spooled callback %s quarantined", original.name)


def payment_accept_callback(
    *, raw_body: bytes, source_ip: str | None, headers: Mapping[str, str]
) -> None:
    """The callback view's one call: receive it, or spool it if the
    database fails; once one is stored, replay what an outage spooled.

    Raises ``CallbackMalformed`` (stored, 400) like ``payment_receive_callback``,
    and ``OSError`` when neither the database nor the disk can keep it.
    """
    try:
        payment_receive_callback(
            raw_body=raw_body, source_ip=source_ip, headers=headers
        )
    except CONNECTION_LOST:
        logger.exception("database unavailable: callback spooled to disk")
        callback_spool_write(raw_body=raw_body, source_ip=source_ip, headers=headers)
        return
    if callback_spool_pending():
        # A small batch per request keeps Daraja's answer quick; the beat
        # task and the command take the rest.
        payment_replay_spooled_callbacks(limit=INLINE_REPLAY_LIMIT)

"""Pull Transactions: register the shortcode, fetch every page of a window.

``manage.py mpesa_pull_register`` is the interface of ``pull_register``;
``pull_fetch`` serves the pull that reads the rows like statement rows
(source ``pull``). Every exchange is stored raw as a ``daraja_exchange``
event. Daraja keeps the last 48 hours only (../shared/daraja.md §6).
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.phone import mask_phone
from payments.daraja.types import PullPage, PullRegistration, PullTransaction
from payments.exceptions import PaymentError
from payments.services import daraja_client
from payments.services.events import exchange_recorder

logger = logging.getLogger(__name__)

PULL_WINDOW = timedelta(hours=48)
# 100 pages of Daraja's (reported) 1,000 rows is far beyond our volume:
# reaching it means the offset is being ignored, not that money is there.
MAX_PULL_PAGES = 100


class PullNotConfigured(PaymentError):
    status_code = 503
    code = "pull_not_configured"
    default_message = "Pull Transactions is not configured."


def pull_register() -> PullRegistration:
    """Register ``MPESA_C2B_SHORT_CODE`` for Pull Transactions with
    ``MPESA_PULL_NOMINATED_NUMBER`` and ``MPESA_PULL_CALLBACK_URL``.

    Side effects: one request to Daraja (plus OAuth), each stored as an
    event. Raises ``PullNotConfigured`` (nothing sent) naming the missing
    settings, and the client's ``DarajaError``s.
    """
    missing = [
        name
        for name in (
            "MPESA_C2B_SHORT_CODE",
            "MPESA_PULL_NOMINATED_NUMBER",
            "MPESA_PULL_CALLBACK_URL",
        )
        if not getattr(settings, name, "")
    ]
    if missing:
        raise PullNotConfigured(f"Set {', '.join(missing)}.")
    result = daraja_client.daraja().pull_register(
        short_code=settings.MPESA_C2B_SHORT_CODE,
        nominated_number=settings.MPESA_PULL_NOMINATED_NUMBER,
        callback_url=settings.MPESA_PULL_CALLBACK_URL,
        on_exchange=exchange_recorder(None),
    )
    logger.info(
        "Pull Transactions registered for %s (nominated %s): %s",
        result.short_code,
        mask_phone(settings.MPESA_PULL_NOMINATED_NUMBER),
        result.response_description,
    )
    return result


def pull_fetch(*, start: datetime, end: datetime) -> list[PullTransaction]:
    """Every transaction Daraja reports on ``MPESA_C2B_SHORT_CODE`` between
    ``start`` and ``end`` (aware), each receipt once, oldest page first
    (one receipt with two different rows is returned twice: which one
    M-Pesa meant is not ours to pick).

    Pages through ``OffSetValue`` until an empty page or one shorter than
    the first; stops (with a warning) on a page seen before or after
    ``MAX_PULL_PAGES``. A start older than 48 hours is moved up to the
    window Daraja keeps. Side effects: every exchange is stored as an
    event. Raises the client's ``DarajaError``s (pages already fetched are
    stored, nothing else is written).
    """
    start = max(start, timezone.now() - PULL_WINDOW)
    if end < start:
        return []
    client = daraja_client.daraja()
    recorder = exchange_recorder(None)
    found: dict[str, list[PullTransaction]] = {}  # receipt: its distinct rows
    seen_pages: set[tuple[str, ...]] = set()
    first_size = None
    offset = 0
    for _ in range(MAX_PULL_PAGES):
        page = client.pull_transactions(
            short_code=settings.MPESA_C2B_SHORT_CODE,
            start=start,
            end=end,
            offset=offset,
            on_exchange=recorder,
        )
        if page.size == 0 or _is_repeat(page, seen_pages):
            break
        _note_unreadable(page)
        for row in page.rows:
            # An exact repeat (pages overlapping) is one transaction; the same
            # id with other values stays twice, for the import to refuse.
            same_receipt = found.setdefault(row.transaction_id, [])
            if row not in same_receipt:
                same_receipt.append(row)
        first_size = first_size or page.size
        if page.size < first_size:
            break
        offset += page.size
    else:
        logger.warning("Pull Transactions: stopped after %s pages", MAX_PULL_PAGES)
    return [row for rows in found.values() for row in rows]


def _is_repeat(page: PullPage, seen: set[tuple[str, ...]]) -> bool:
    """True for a page of receipts already fetched (offset ignored)."""
    key = tuple(row.transaction_id for row in page.rows)
    if key and key in seen:
        logger.warning("Pull Transactions repeated a page at offset %s", page.offset)
        return True
    seen.add(key)
    return False


def _note_unreadable(page: PullPage) -> None:
    if page.unreadable:
        logger.warning(
            "Pull Transactions: %s unreadable rows at offset %s (stored raw)",
            len(page.unreadable),
            page.offset,
        )

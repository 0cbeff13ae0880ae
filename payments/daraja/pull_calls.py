"""Pull Transactions (register, query), as a part of ``DarajaClient``.

``POST /pulltransactions/v1/register`` once per shortcode, then
``/pulltransactions/v1/query`` for the C2B transactions of the last 48
hours, a page at a time from the row offset ``OffSetValue``
(../shared/daraja.md §6 and §10; docs/simulator.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from core.time import NAIROBI
from payments.daraja import answers
from payments.daraja.exceptions import DarajaRejected, DarajaValidationError
from payments.daraja.pull_types import (
    FOUND,
    NONE_FOUND,
    PullPage,
    PullRegistration,
    page_rows,
    read_row,
)
from payments.daraja.transport import ExchangeHook, HttpAnswer
from payments.phone import InvalidPhoneNumber, normalise_phone

logger = logging.getLogger(__name__)

PULL_REGISTER_PATH = "/pulltransactions/v1/register"
PULL_QUERY_PATH = "/pulltransactions/v1/query"
PULL_DATE = "%Y-%m-%d %H:%M:%S"


class PullCallsMixin:
    """``pull_register`` and ``pull_transactions``; needs the client's
    ``_call_api`` and ``_retrying``."""

    _call_api: Callable[..., HttpAnswer]
    _retrying: Callable[..., Any]

    def pull_register(
        self,
        *,
        short_code: str,
        nominated_number: str,
        callback_url: str,
        on_exchange: ExchangeHook | None = None,
    ) -> PullRegistration:
        """Register ``short_code`` for Pull Transactions (once per shortcode).

        ``nominated_number`` is normalised to 2547... (Daraja wants the 254
        format). Not retried: a repeat is harmless but says nothing new.

        Raises:
            DarajaValidationError: a bad shortcode, number or URL; nothing
                was sent.
            DarajaRejected, DarajaAuthError, DarajaUnavailable.
        """
        body = {
            "ShortCode": _short_code(short_code),
            "RequestType": "Pull",
            "NominatedNumber": _nominated(nominated_number),
            "CallBackURL": _url(callback_url),
        }
        answer = self._call_api("pull_register", PULL_REGISTER_PATH, body, on_exchange)
        answers.raise_for_answer("pull_register", answer)
        result = registration_result(answer, body["ShortCode"])
        logger.info(
            "Pull Transactions registration of %s: %s",
            body["ShortCode"],
            result.response_description,
        )
        return result

    def pull_transactions(
        self,
        *,
        short_code: str,
        start: datetime,
        end: datetime,
        offset: int = 0,
        on_exchange: ExchangeHook | None = None,
    ) -> PullPage:
        """One page of the C2B transactions between ``start`` and ``end``
        (aware datetimes, sent as Nairobi time), from row ``offset``.

        Idempotent, so retried with backoff while Daraja is unavailable.

        Raises:
            DarajaValidationError: naive or reversed times, a bad offset.
            DarajaRejected: an error answer, or a ``ResponseCode`` other
                than 1000 (rows) and 1001 (none).
            DarajaAuthError, DarajaUnavailable.
        """
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise DarajaValidationError("offset", "Give a row offset >= 0.")
        body = {
            "ShortCode": _short_code(short_code),
            "StartDate": _pull_date("start", start),
            "EndDate": _pull_date("end", end),
            "OffSetValue": str(offset),
        }
        if end < start:
            raise DarajaValidationError("end", "The end is before the start.")
        page = self._retrying(
            "pull_query", partial(self._pull_once, body, offset, on_exchange)
        )
        logger.info(
            "Pull Transactions %s from offset %s: %s rows (%s unreadable)",
            body["ShortCode"],
            offset,
            len(page.rows),
            len(page.unreadable),
        )
        return page

    def _pull_once(
        self, body: dict, offset: int, on_exchange: ExchangeHook | None
    ) -> PullPage:
        answer = self._call_api("pull_query", PULL_QUERY_PATH, body, on_exchange)
        answers.raise_for_answer("pull_query", answer)
        return page_result(answer, offset)


def registration_result(answer: HttpAnswer, short_code: str) -> PullRegistration:
    """The register answer as a value (any 2xx JSON object without error)."""
    body = answer.body if isinstance(answer.body, dict) else {}
    if not body:
        raise DarajaRejected(
            f"http_{answer.status_code}",
            "The register answer is not a JSON object.",
            http_status=answer.status_code,
        )
    return PullRegistration(
        short_code=answers.plain_text(body.get("ShortCode")) or short_code,
        response_status=answers.code_text(body.get("ResponseStatus")) or "",
        response_description=answers.plain_text(body.get("ResponseDescription")),
        response_ref_id=answers.plain_text(body.get("ResponseRefID")),
        raw=body,
    )


def page_result(answer: HttpAnswer, offset: int) -> PullPage:
    """A query answer as a ``PullPage``; 1001 is an empty page.

    Raises:
        DarajaRejected: not a JSON object, or another ``ResponseCode``.
    """
    body = answer.body if isinstance(answer.body, dict) else {}
    code = answers.code_text(body.get("ResponseCode")) or ""
    message = answers.plain_text(
        body.get("ResponseMessage") or body.get("ResponseDescription")
    )
    if code not in (FOUND, NONE_FOUND):
        raise DarajaRejected(
            code or f"http_{answer.status_code}",
            message or "Not a Pull Transactions answer.",
            http_status=answer.status_code,
            raw=body or None,
        )
    rows, unreadable = [], []
    for item in page_rows(body) if code == FOUND else []:
        row = read_row(item)
        if row is None:
            unreadable.append(item if isinstance(item, dict) else {"row": item})
        else:
            rows.append(row)
    if unreadable:
        logger.warning("Pull Transactions: %s unreadable rows", len(unreadable))
    return PullPage(
        rows=tuple(rows),
        unreadable=tuple(unreadable),
        offset=offset,
        response_code=code,
        response_message=message,
        raw=body,
    )


def _short_code(value: str) -> str:
    text = str(value).strip()
    if not text.isdigit():
        raise DarajaValidationError("short_code", "Give the shortcode's digits.")
    return text


def _nominated(value: str) -> str:
    try:
        return normalise_phone(value)
    except InvalidPhoneNumber as exc:
        raise DarajaValidationError("nominated_number", exc.message) from exc


def _url(value: str) -> str:
    text = str(value or "").strip()
    if not text.startswith(("https://", "http://")):
        raise DarajaValidationError("callback_url", "Give an http(s) URL.")
    return text


def _pull_date(field: str, moment: datetime) -> str:
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise DarajaValidationError(field, "Give an aware datetime.")
    return moment.astimezone(NAIROBI).strftime(PULL_DATE)

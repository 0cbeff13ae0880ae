"""Bodies Daraja POSTs to the ResultURL and QueueTimeOutURL.

Reversal, B2C and Transaction Status answer asynchronously with
``{"Result": {ResultType, ResultCode, ResultDesc, OriginatorConversationID,
ConversationID, TransactionID, ResultParameters: {ResultParameter: [{Key,
Value}, ...]}, ReferenceData}}`` (daraja.md section 10). ``ResultCode`` may
be a number or a string (``"R000002"``); ``ResultParameter`` may be a list
or a single object, and failures usually carry no ``ResultParameters``.

``parse_async_result`` reads either body into ``AsyncResult``; the
``*_fields`` helpers read its parameters into typed values.
"""

from __future__ import annotations

import json

from payments.daraja.exceptions import DarajaMalformedResult
from payments.daraja.result_fields import (  # noqa: F401 - re-exported
    B2CFields,
    ReversalFields,
    TransactionStatusFields,
    b2c_fields,
    reversal_fields,
    transaction_status_fields,
)
from payments.daraja.types import AsyncResult

__all__ = [
    "B2CFields",
    "DarajaMalformedResult",
    "ReversalFields",
    "TransactionStatusFields",
    "b2c_fields",
    "parse_async_result",
    "reversal_fields",
    "transaction_status_fields",
]

_ID_KEYS = ("OriginatorConversationID", "ConversationID")


def parse_async_result(
    body: bytes | str | dict, *, timeout: bool = False
) -> AsyncResult:
    """Read a ResultURL body (or, with ``timeout``, a QueueTimeOutURL notice).

    A time-out notice may lack ``ResultCode`` (then ``""``); a result may
    not. Either needs at least one conversation id to be matched.

    Raises:
        DarajaMalformedResult: not JSON, no ``Result`` object, no id, or a
            field of the wrong type.
    """
    raw = _decoded(body)
    result = raw.get("Result")
    if not isinstance(result, dict):
        raise DarajaMalformedResult("Body has no Result object")
    code = _code(result.get("ResultCode"), required=not timeout)
    ids = {key: _text(result, key) for key in _ID_KEYS}
    if not any(ids.values()):
        raise DarajaMalformedResult("Result has no conversation id")
    return AsyncResult(
        result_type=_result_type(result.get("ResultType")),
        result_code=code,
        result_desc=_text(result, "ResultDesc"),
        originator_conversation_id=ids["OriginatorConversationID"],
        conversation_id=ids["ConversationID"],
        transaction_id=_text(result, "TransactionID"),
        parameters=_parameters(result.get("ResultParameters")),
        raw=raw,
        timed_out=timeout,
    )


def _decoded(body: object) -> dict:
    if isinstance(body, dict):
        return body
    if not isinstance(body, bytes | bytearray | str):
        raise DarajaMalformedResult("Result body is not JSON")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError, TypeError) as exc:
        raise DarajaMalformedResult("Result body is not JSON") from exc
    if not isinstance(data, dict):
        raise DarajaMalformedResult("Result body is not a JSON object")
    return data


def _code(value: object, *, required: bool) -> str:
    if value is None or value == "":
        if required:
            raise DarajaMalformedResult("Result has no ResultCode")
        return ""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise DarajaMalformedResult(f"ResultCode is not a code: {value!r:.40}")
    return str(value).strip()


def _result_type(value: object) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise DarajaMalformedResult("ResultType is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise DarajaMalformedResult(f"ResultType is not a number: {value!r:.40}")


def _text(result: dict, key: str) -> str:
    value = result.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise DarajaMalformedResult(f"{key} is not text")
    return str(value).strip()


def _parameters(value: object) -> dict[str, str]:
    if value in (None, "", []):
        return {}
    if not isinstance(value, dict):
        raise DarajaMalformedResult("ResultParameters is not an object")
    items = value.get("ResultParameter")
    if items is None:
        return {}
    if isinstance(items, dict):  # one parameter, not wrapped in a list
        items = [items]
    if not isinstance(items, list):
        raise DarajaMalformedResult("ResultParameter is not a list")
    parameters: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("Key"), str):
            raise DarajaMalformedResult("ResultParameter item has no Key")
        text = _value_text(item.get("Value"))
        if text is not None:
            parameters.setdefault(item["Key"].strip(), text)
    return parameters


def _value_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise DarajaMalformedResult("ResultParameter Value is not a scalar")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()

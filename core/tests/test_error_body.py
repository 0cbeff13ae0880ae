"""The one builder of the API's error envelope."""

import json

from core.errors import DomainError, error_body


def test_error_body_without_fields_has_code_and_message_only():
    assert error_body("not_found", "Not found.") == {
        "error": {"code": "not_found", "message": "Not found."}
    }


def test_error_body_keeps_the_key_order_of_the_wire_format():
    # given
    body = error_body("invalid", "x: bad", {"x": ["bad"]}, payment_id=7)
    # then: code, message, fields, then the extras, as the SPA has seen them
    assert json.dumps(body) == (
        '{"error": {"code": "invalid", "message": "x: bad", '
        '"fields": {"x": ["bad"]}, "payment_id": 7}}'
    )


def test_domain_error_body_is_built_by_the_same_builder():
    # given
    error = DomainError("Nope.", field="phone_number", booking_id=3)
    # then
    assert error.as_body() == error_body(
        "error", "Nope.", {"phone_number": ["Nope."]}, booking_id=3
    )
    assert list(error.as_body()["error"]) == ["code", "message", "fields", "booking_id"]

"""The STK Timestamp (Nairobi time) and Password."""

import base64
import os
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
import time_machine

from payments.daraja.validation import daraja_timestamp, stk_password
from payments.tests.daraja.support import PASSKEY, SHORTCODE


@pytest.fixture
def los_angeles_process_tz():
    """Run the test with the process clock in America/Los_Angeles."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "America/Los_Angeles"
    time.tzset()
    yield
    if previous is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = previous
    time.tzset()


@pytest.mark.usefixtures("los_angeles_process_tz")
def test_daraja_timestamp_uses_nairobi_time_under_another_tz():
    # given the process runs in Los Angeles at 21:30 UTC (14:30 PDT); an
    # epoch destination, since an aware one would make time-machine set TZ
    instant = datetime(2024, 7, 10, 21, 30, 5, tzinfo=UTC).timestamp()
    with time_machine.travel(instant, tick=False):
        assert time.localtime().tm_hour == 14  # the naive-clock trap is armed

        # when the timestamp is taken
        timestamp = daraja_timestamp()

    # then it is Nairobi's wall clock (UTC+3), the next day
    assert timestamp == "20240711003005"


def test_daraja_timestamp_converts_an_aware_datetime():
    # given an aware datetime in UTC+1
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=1)))

    # when the timestamp is taken
    # then it is the same instant in Nairobi, zero-padded
    assert daraja_timestamp(moment) == "20240102050405"


def test_daraja_timestamp_refuses_a_naive_datetime():
    # given a naive datetime, whose zone would be a guess
    moment = datetime(2024, 1, 2, 3, 4, 5)  # noqa: DTZ001

    # when / then the timestamp is refused
    with pytest.raises(ValueError, match="aware"):
        daraja_timestamp(moment)


def test_stk_password_matches_dajaras_official_sample():
    # given the sandbox shortcode, passkey and the documentation's timestamp
    # when the password is built
    password = stk_password(SHORTCODE, PASSKEY, "20160216165627")

    # then it is the Password of Daraja's official STK push sample
    assert password == (
        "MTc0Mzc5YmZiMjc5ZjlhYTliZGJjZjE1OGU5N2RkNzFhNDY3Y2QyZTBjODkzMDU5Yj"
        "EwZjc4ZTZiNzJhZGExZWQyYzkxOTIwMTYwMjE2MTY1NjI3"
    )


def test_stk_password_is_base64_of_the_plain_concatenation():
    # given any shortcode, passkey and timestamp
    # when the password is built
    password = stk_password("600000", "pk", "20240101000000")

    # then decoding it gives the concatenation, unhashed
    assert base64.b64decode(password) == b"600000pk20240101000000"

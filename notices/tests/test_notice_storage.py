"""A notice's recipient (a phone number for an SMS) is encrypted at rest."""

import pytest
from django.db import connection

from core.crypto import is_encrypted
from notices.models import Notice

pytestmark = pytest.mark.django_db


def test_sms_recipient_is_stored_encrypted_and_read_back_whole():
    notice = Notice.objects.create(
        kind=Notice.Kind.choices[0][0],
        channel="sms",
        recipient="254708374149",
        body_text="Booking HY7K2M9Q confirmed.",
        dedupe_key="test:sms:booking:1",
    )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT recipient FROM notices_notice WHERE id = %s", [notice.pk]
        )
        [stored] = cursor.fetchone()

    assert is_encrypted(stored)
    assert "708374149" not in stored
    assert Notice.objects.get(pk=notice.pk).recipient == "254708374149"

"""Issue 17, point 5: the client hears once that a refund completed."""

import pytest
from django.contrib.auth import get_user_model

from notices.models import Notice
from payments.models import Refund
from payments.services.async_results import result_intake
from payments.tests.result_support import as_bytes, reversal_result, submitted_refund

pytestmark = pytest.mark.django_db


def _intake(body: dict, captured):
    with captured(execute=True):
        return result_intake(
            raw_body=as_bytes(body),
            source_ip="196.201.214.200",
            headers={},
            timeout=False,
        )


def test_completed_refund_tells_the_client_once(
    fake_daraja, mailoutbox, django_capture_on_commit_callbacks
):
    # given a submitted reversal; the client has an e-mail
    refund = submitted_refund(fake_daraja)
    get_user_model().objects.filter(pk=refund.booking.client_id).update(
        email="amina@example.com"
    )
    # when M-Pesa's success result arrives twice
    _intake(reversal_result(refund), django_capture_on_commit_callbacks)
    _intake(reversal_result(refund), django_capture_on_commit_callbacks)
    # then
    refund.refresh_from_db()
    assert refund.status == Refund.Status.COMPLETED
    [mail] = mailoutbox
    assert mail.to == ["amina@example.com"]
    assert refund.booking.reference in mail.subject
    assert "KES 3,000" in mail.body
    assert refund.refund_receipt_number in mail.body
    kinds = set(Notice.objects.values_list("kind", flat=True))
    assert "refund_completed_client" in kinds

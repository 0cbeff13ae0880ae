"""Backfill the ledger: a receipt for every completed payment that has one.

Each gets one sighting: its newest stored callback when there is one
(``stk_callback``), otherwise ``staff`` (resolved by hand with a receipt).
Payments in review are left for staff: the ledger view lists them.
"""

from django.db import migrations


def backfill(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    PaymentEvent = apps.get_model("payments", "PaymentEvent")
    MpesaReceipt = apps.get_model("payments", "MpesaReceipt")
    Sighting = apps.get_model("payments", "MpesaReceiptSighting")
    completed = Payment.objects.filter(
        status="completed", mpesa_receipt_number__isnull=False
    ).exclude(mpesa_receipt_number="")
    for payment in completed.iterator():
        receipt_number = payment.mpesa_receipt_number.upper()
        if MpesaReceipt.objects.filter(receipt_number=receipt_number).exists():
            continue
        paid = payment.paid_amount
        receipt = MpesaReceipt.objects.create(
            receipt_number=receipt_number,
            direction="in",
            channel="stk",
            amount=int(paid) if paid is not None else payment.amount,
            payer_phone=payment.paid_phone_number or "",
            transacted_at=payment.transaction_date,
            allocation="allocated",
            payment_id=payment.pk,
            booking_id=payment.booking_id,
        )
        callback = (
            PaymentEvent.objects.filter(
                payment_id=payment.pk, kind="callback", error=""
            )
            .order_by("-created_at", "-id")
            .first()
        )
        Sighting.objects.create(
            receipt=receipt,
            source="stk_callback" if callback else "staff",
            event_id=callback.pk if callback else None,
        )


class Migration(migrations.Migration):
    dependencies = [("payments", "0008_mpesa_receipt_ledger")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]

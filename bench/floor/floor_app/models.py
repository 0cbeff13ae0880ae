"""The essentials of our tables: what a callback and a status poll touch."""

from django.conf import settings
from django.db import models


class Booking(models.Model):
    client = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    status = models.CharField(max_length=20, default="pending_payment")
    payment_status = models.CharField(max_length=20, default="pending")
    amount = models.PositiveIntegerField()


class Payment(models.Model):
    booking = models.ForeignKey(Booking, on_delete=models.PROTECT)
    initiated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    amount = models.PositiveIntegerField()
    phone_number = models.CharField(max_length=12)
    status = models.CharField(max_length=20, default="pending")
    result_code = models.CharField(max_length=10, blank=True)
    result_desc = models.CharField(max_length=255, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    mpesa_receipt_number = models.CharField(max_length=20, null=True, unique=True)
    transaction_date = models.DateTimeField(null=True)
    merchant_request_id = models.CharField(max_length=64)
    checkout_request_id = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)


class RawCallback(models.Model):
    body = models.BinaryField()
    source_ip = models.GenericIPAddressField(null=True)
    received_at = models.DateTimeField(auto_now_add=True)


class StatusEvent(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT)
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

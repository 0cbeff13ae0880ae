"""Seed the floor: N pending payments (checkout ids as bench/fixtures.py),
each owned by its own token holder when ``--pollers``; prints the
(token, checkout id) pairs as JSON lines for the status benchmark."""

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token

from floor_app.models import Booking, Payment

PREFIX = "ws_CO_BENCH"


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--payments", type=int, required=True)
        parser.add_argument("--pollers", action="store_true")

    def handle(self, *args, payments, pollers, **options):
        users_model = get_user_model()
        count = payments if pollers else 1
        users = users_model.objects.bulk_create(
            [users_model(username=f"floor{i}") for i in range(count)]
        )
        tokens = Token.objects.bulk_create(
            [Token(user=u, key=Token.generate_key()) for u in users]
        )
        owner = [users[i % count] for i in range(payments)]
        bookings = Booking.objects.bulk_create(
            [Booking(client=owner[i], amount=3000) for i in range(payments)],
            batch_size=1000,
        )
        Payment.objects.bulk_create(
            [
                Payment(
                    booking=b,
                    initiated_by=owner[i],
                    amount=3000,
                    phone_number="254708374149",
                    merchant_request_id=f"bench-{i}",
                    checkout_request_id=f"{PREFIX}{i:08d}",
                )
                for i, b in enumerate(bookings)
            ],
            batch_size=1000,
        )
        if pollers:
            for i, token in enumerate(tokens):
                self.stdout.write(json.dumps([token.key, f"{PREFIX}{i:08d}"]))

"""Booking references: their shape, how a typed one is read, uniqueness."""

import pytest
from django.db import IntegrityError

from bookings.models import Booking
from bookings.references import (
    BOOKING_REFERENCE_ALPHABET,
    booking_reference_new,
    booking_reference_normalise,
)
from bookings.services import creation
from bookings.services.creation import booking_reference_unused
from bookings.tests.factories import BookingFactory


def test_alphabet_has_no_ambiguous_characters():
    assert not set("0O1IL") & set(BOOKING_REFERENCE_ALPHABET)
    assert len(set(BOOKING_REFERENCE_ALPHABET)) == 31


def test_new_reference_is_hy_and_six_alphabet_characters():
    # when
    references = {booking_reference_new() for _ in range(200)}
    # then
    for reference in references:
        assert len(reference) == 8 <= 12  # Daraja's AccountReference limit
        assert reference.startswith("HY")
        assert set(reference[2:]) <= set(BOOKING_REFERENCE_ALPHABET)
    assert len(references) > 190  # random, not a sequence or a constant


@pytest.mark.parametrize(
    "typed",
    ["HYABC234", "hyabc234", "HY-ABC-234", "hy abc 234", " HY ABC-234\n", "Hy\tAbc234"],
)
def test_normalise_forgives_case_spaces_and_dashes(typed):
    assert booking_reference_normalise(typed) == "HYABC234"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "HY",
        "HYABC23",  # too short
        "HYABC2345",  # too long
        "XYABC234",  # another prefix
        "ABC234",  # prefix left out
        "HYABC0O4",  # 0 and O are not in the alphabet: refused, not guessed
        "HYABC1I4",
        "HYABCL34",
        "HYABC_34",
        "HY.ABC.234",
        "42",
        None,
        12345678,
    ],
)
def test_normalise_refuses_what_is_no_reference(typed):
    assert booking_reference_normalise(typed) is None


@pytest.mark.django_db
def test_factory_bookings_get_distinct_valid_references():
    # when
    bookings = BookingFactory.create_batch(3)
    # then
    references = [b.reference for b in bookings]
    assert len(set(references)) == 3
    assert all(booking_reference_normalise(r) == r for r in references)


@pytest.mark.django_db
def test_database_refuses_a_second_booking_with_the_same_reference():
    # given
    taken = BookingFactory()
    # when / then
    with pytest.raises(IntegrityError):
        BookingFactory(reference=taken.reference)


@pytest.mark.django_db
def test_unused_reference_retries_on_collision(monkeypatch):
    # given: the first draw is a reference a booking already has
    taken = BookingFactory().reference
    draws = iter([taken, "HYZZZZZZ"])
    monkeypatch.setattr(creation, "booking_reference_new", lambda: next(draws))
    # when / then
    assert booking_reference_unused() == "HYZZZZZZ"


@pytest.mark.django_db
def test_unused_reference_gives_up_after_its_attempts(monkeypatch):
    # given: every draw collides
    taken = BookingFactory().reference
    monkeypatch.setattr(creation, "booking_reference_new", lambda: taken)
    # when / then
    with pytest.raises(RuntimeError):
        booking_reference_unused(attempts=3)
    assert Booking.objects.filter(reference=taken).count() == 1

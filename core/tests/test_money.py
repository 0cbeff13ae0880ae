"""One way to write an amount for people: ``KES 3,000`` (issue 11,
point 16)."""

from decimal import Decimal

import pytest

from core.money import format_kes


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (3000, "KES 3,000"),
        (1, "KES 1"),
        (150000, "KES 150,000"),
        (Decimal("3000.00"), "KES 3,000"),
        (Decimal("1500.50"), "KES 1,500.50"),
        (None, "-"),
    ],
)
def test_format_kes_writes_shillings_with_thousands_separators(amount, text):
    # when / then
    assert format_kes(amount) == text

"""How amounts read for people: ``KES 3,000``.

One helper for the admin (both apps, through the ``kes`` template filter in
``core.templatetags.money``) and for API error messages. Amounts are
whole KES; a paid amount Daraja reported with cents keeps them.
"""

from decimal import Decimal

# Beyond this an amount is no real payment (a forged 1e300): shown short.
_IMPLAUSIBLE = Decimal(10) ** 10


def format_kes(amount: int | Decimal | None) -> str:
    """``KES 3,000`` (``KES 1,500.50`` with cents); ``-`` for no amount."""
    if amount is None:
        return "-"
    if abs(amount) >= _IMPLAUSIBLE:
        return f"KES {Decimal(amount):.3E}"
    if isinstance(amount, Decimal) and amount != amount.to_integral_value():
        return f"KES {amount:,.2f}"
    return f"KES {int(amount):,}"

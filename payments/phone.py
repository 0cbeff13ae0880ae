"""The phone rule, kept importable from payments (its first home).

The rule lives in ``core.phone`` so that ``accounts`` (which may not import
payments) normalises a client's default M-Pesa phone exactly as the push
does.
"""

from core.phone import (
    InvalidPhoneNumber,
    mask_phone,
    masked_phone_digits,
    normalise_phone,
)

__all__ = ["InvalidPhoneNumber", "mask_phone", "masked_phone_digits", "normalise_phone"]

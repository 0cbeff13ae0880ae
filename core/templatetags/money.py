"""``{% load money %}{{ payment.amount|kes }}`` → ``KES 3,000``."""

from django import template

from core.money import format_kes

register = template.Library()


@register.filter
def kes(amount) -> str:
    return format_kes(amount)

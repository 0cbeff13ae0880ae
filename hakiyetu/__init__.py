"""Haki Yetu: consultation bookings paid with M-Pesa STK Push."""

from hakiyetu.celery import app as celery_app

__all__ = ("celery_app",)

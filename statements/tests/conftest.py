"""Shallow fixtures for the statements tests."""

import pytest

from bookings.tests.factories import UserFactory
from payments.tests.conftest import _callback_settings  # noqa: F401 (autouse)
from statements.services.importing import statement_import
from statements.tests import support


@pytest.fixture
def import_rows():
    """Import a CSV statement of these rows; returns the import."""
    user = UserFactory()

    def run(*rows, **kwargs):
        data = support.csv_file(list(rows), **kwargs)
        return statement_import(data=data, filename="s.csv", user=user).statement_import

    return run

"""The OpenAPI schema documents the account endpoints and their errors."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

EXPECTED = {
    "/api/auth/register/": ("post", {"201", "400", "429"}),
    "/api/auth/logout/": ("post", {"204", "401"}),
    "/api/auth/me/": ("patch", {"200", "400", "401"}),
    "/api/auth/password-reset/": ("post", {"202", "400", "429"}),
    "/api/auth/password-reset/confirm/": ("post", {"204", "400", "429"}),
}


def test_schema_documents_the_account_endpoints(api_client):
    # when
    paths = api_client.get("/api/schema/", {"format": "json"}).json()["paths"]
    # then
    for path, (method, statuses) in EXPECTED.items():
        assert set(paths[path][method]["responses"]) == statuses, path
    assert "get" in paths["/api/auth/me/"]


def test_schema_validates_without_warnings(tmp_path):
    # spectacular exits non-zero on any warning or invalid schema
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yml"),
    )

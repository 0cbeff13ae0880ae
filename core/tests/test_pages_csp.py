"""The checkout pages send a strict Content-Security-Policy (issue 11, 25).

Only this site's own files run: no inline script, no inline style, no
other origin. The page's own markup must need nothing the policy forbids.
The Django admin (inline scripts) keeps its own pages without it.
"""

import re

import pytest

from bookings.tests.factories import ConsultationTypeFactory, UserFactory

pytestmark = pytest.mark.django_db


def _directives(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    pairs = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {name: value for name, value in pairs}


@pytest.fixture
def signed_in(client):
    ConsultationTypeFactory()
    client.force_login(UserFactory())
    return client


@pytest.mark.parametrize("path", ["/", "/login/"])
def test_checkout_pages_send_a_self_only_policy(client, path):
    # given / when
    page = client.get(path)

    # then
    assert page.status_code == 200
    policy = _directives(page)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]


def test_signed_in_checkout_page_has_nothing_the_policy_forbids(signed_in):
    # given / when
    page = signed_in.get("/")

    # then: scripts are files; the advocates are a JSON data block, not code
    html = page.content.decode()
    assert "Content-Security-Policy" in page.headers
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts
    for attributes, body in scripts:
        assert 'src="/static/' in attributes or 'type="application/json"' in attributes
        if "src=" in attributes:
            assert not body.strip()
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute"
    assert "<style" not in html


def test_admin_keeps_its_inline_scripts_working(admin_client):
    # given / when
    page = admin_client.get("/admin/")

    # then
    assert page.status_code == 200
    assert "Content-Security-Policy" not in page.headers

"""The API docs (Swagger UI at /api/docs/, ReDoc at /api/redoc/) work offline.

Their JavaScript and CSS come from drf-spectacular-sidecar under /static/,
never from a CDN: a newcomer without internet (or a CDN that moves
``@latest``) still gets working docs.
"""

import re

import pytest

pytestmark = pytest.mark.django_db

_ASSET = re.compile(r"""(?:src|href)=["']([^"']+)["']""")


def _assets(html: str) -> list[str]:
    return _ASSET.findall(html)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_api_docs_load_only_local_static_files(client, path):
    # given / when
    page = client.get(path)

    # then: every script, stylesheet and icon is ours, under /static/
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn" not in html.lower()
    assert "@latest" not in html
    assert "googleapis" not in html
    assets = [url for url in _assets(html) if not url.startswith(path + "?")]
    assert assets, html
    for url in assets:
        assert url.startswith("/static/"), url
        # and each one is really served
        served = client.get(url)
        assert served.status_code == 200, url
        body = (
            b"".join(served.streaming_content) if served.streaming else served.content
        )
        assert body, url


def test_swagger_ui_script_is_served_from_our_own_url(client):
    # given: the page's own script (no inline <script>, so a CSP can forbid it)
    html = client.get("/api/docs/").content.decode()
    (script_url,) = [u for u in _assets(html) if u.startswith("/api/docs/?")]

    # when
    script = client.get(script_url.replace("&amp;", "&"))

    # then
    assert script.status_code == 200
    assert b"SwaggerUIBundle" in script.content
    assert "<script>" not in html


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_api_docs_may_load_images_fonts_and_data_only_from_this_site(client, path):
    # given: ReDoc's bundle hard-codes its logo on cdn.redoc.ly
    # when
    page = client.get(path)

    # then: the browser does not even ask for it
    policy = page.headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob:" in policy
    assert "font-src 'self' data:" in policy
    assert "connect-src 'self'" in policy


def test_swagger_ui_asks_no_outside_validator(client):
    # given / when
    html = client.get("/api/docs/").content.decode()
    script_url = re.search(r'src="(/api/docs/\?[^"]+)"', html)[1]
    script = client.get(script_url.replace("&amp;", "&")).content.decode()

    # then
    assert '"validatorUrl": null' in script

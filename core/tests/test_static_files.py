"""Static files: one storage whatever DEBUG says.

``collectstatic`` run with the local ``.env`` (DEBUG=1) and the site then
served with DEBUG=0 used to turn every page into a 500 (the storage picked
by DEBUG at collect time wrote no manifest, the one picked at serving time
needed it). Each step runs in a fresh process, as a deploy would.
"""

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]

# A page that uses {% static %}, fetched the way a browser would, over HTTPS.
_FETCH = """
import re
from django.test import Client
client = Client(HTTP_HOST="localhost")
for path in ("/", "/admin/login/"):
    page = client.get(path, secure=True)
    print(path, page.status_code)
    if path == "/":
        html = page.content.decode()
        css = re.search(r'/static/hakiyetu/checkout[^"]*[.]css', html)[0]
        print("css", css, client.get(css, secure=True).status_code)
"""


def _run(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess:
    """A fresh process on the project's settings, only STATIC_ROOT moved."""
    (tmp_path / "static_settings.py").write_text(
        "from hakiyetu.settings import *  # noqa: F403\n"
        f"STATIC_ROOT = {str(tmp_path / 'staticfiles')!r}\n"
    )
    result = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, *argv],
        cwd=BASE_DIR,
        env={
            "PATH": os.environ["PATH"],
            "PYTHONPATH": f"{tmp_path}{os.pathsep}{BASE_DIR}",
            "DJANGO_SETTINGS_MODULE": "static_settings",
            "VAR_DIR": str(tmp_path / "var"),
            "CACHE_URL": "locmemcache://",
            "SECRET_KEY": "test-only-key",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_collectstatic_with_debug_on_then_serving_with_debug_off(tmp_path):
    # given: the build step run with the local .env's DEBUG=1
    _run(tmp_path, "manage.py", "collectstatic", "--noinput", DEBUG="1")

    # when: the same files served with DEBUG=0
    served = _run(tmp_path, "-c", f"import django; django.setup()\n{_FETCH}", DEBUG="0")

    # then: pages render, with hashed (cacheable) file names that are served
    lines = served.stdout.splitlines()
    assert "/ 200" in lines, served.stdout + served.stderr
    assert "/admin/login/ 200" in lines, served.stdout + served.stderr
    (css_line,) = [line for line in lines if line.startswith("css ")]
    _, css_url, status = css_line.split()
    assert css_url != "/static/hakiyetu/checkout.css", css_url  # hashed name
    assert status == "200", css_line


def test_pages_render_with_debug_off_before_any_collectstatic(tmp_path):
    # given: no collectstatic at all (make test, a forgotten build step)
    # when
    served = _run(tmp_path, "-c", f"import django; django.setup()\n{_FETCH}", DEBUG="0")

    # then: a page, not a 500 on every {% static %}
    assert "/ 200" in served.stdout.splitlines(), served.stdout + served.stderr

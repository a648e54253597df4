"""`postloan serve --workers 2`: several server processes behind one port act as one server —
a login form fetched from one worker is accepted by the other (one CSRF/session secret), and
the session cookie works on both."""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tests.web.conftest import PASSWORD, Store
from tests.web.live import free_port

CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def _workers(pid: int) -> set[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in children.read_text().split()} if children.exists() else set()


def test_two_workers_share_sessions_and_csrf(web_store: Store) -> None:
    port = free_port()
    env = {**os.environ, "POSTLOAN_DATABASE_URL": web_store.url}
    env.pop("POSTLOAN_WEB_SECRET", None)  # serve must give both workers the same one
    server = subprocess.Popen(
        [sys.executable, "-m", "postloan", "serve", "--port", str(port), "--workers", "2"],
        env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/login", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.3)
        assert len(_workers(server.pid)) >= 2
        customer = web_store.assigned[0]
        for _ in range(8):  # each client opens new connections, which land on either worker
            jar = http.cookiejar.CookieJar()
            client = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            form = client.open(f"{base}/login").read().decode()
            match = CSRF_RE.search(form)
            assert match
            data = {"username": "boss", "password": PASSWORD, "csrf_token": match.group(1)}
            landed = client.open(f"{base}/login", data=urllib.parse.urlencode(data).encode())
            assert urllib.parse.urlsplit(landed.geturl()).path == "/"  # not back at /login
            page = client.open(f"{base}/customers/{customer}").read().decode()
            assert customer in page and 'id="accounts"' in page
    finally:
        server.terminate()
        server.wait(timeout=30)

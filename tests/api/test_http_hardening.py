"""HTTP hardening (issue 10): cookie-authenticated writes need the CSRF token (defect 6),
security headers on every response, the API docs served from the package, request body limits
checked before reading, and no internals in any error."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from postloan.access.tables import audit_log
from postloan.access.tokens import issue_token
from postloan.api.app import create_app
from postloan.api.body_limit import BODY_LIMIT_VAR, UPLOAD_LIMIT_VAR, BodyLimits
from postloan.api.csrf import CSRF_HEADER, csrf_token
from postloan.api.deps import SESSION_COOKIE
from postloan.api.docs import docs_assets_missing
from postloan.api.errors import public_message
from postloan.collections.agreement_tables import agreements
from postloan.store.db import engine_for, ready
from tests.api.conftest import BACKENDS, World, populate
from tests.api.test_agreements_api import _assign, _body, _loans
from tests.web.live import free_port

STATE_CHANGING = ("post", "put", "patch", "delete")
FOREIGN_ORIGIN = "http://127.0.0.1:8999"  # the attacker's page: another port, the same host


def _session(world: World, who: str) -> str:
    """A workbench session token for `who` (what the HttpOnly cookie holds)."""
    engine = engine_for(world.url)
    with engine.begin() as conn:
        token = issue_token(conn, world.users[who].user_id, "session", datetime.now(UTC))
    engine.dispose()
    return token


def _audit_count(world: World, action: str) -> int:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        n = conn.execute(
            select(func.count()).select_from(audit_log).where(audit_log.c.action == action)
        ).scalar_one()
    engine.dispose()
    return int(n)


# --- defect 6: the session cookie alone never changes anything ------------------------------


@pytest.fixture(params=BACKENDS)
def fresh(
    request: pytest.FixtureRequest, make_store: Any, tmp_path: Path
) -> Iterator[tuple[World, FastAPI, Path]]:
    world = populate(make_store(request.param), tmp_path / "files")
    app = create_app(world.url, policy_path=tmp_path / "policy.toml")
    yield world, app, tmp_path / "files"


def test_cross_site_approve_and_import_with_the_cookie_are_refused(
    fresh: tuple[World, FastAPI, Path],
) -> None:
    """The reproduction: a page on another port auto-submits a form to approve an agreement
    and uploads a customers file with fetch(…, {credentials: "include"}): the browser adds the
    supervisor's / importer's session cookie, but no CSRF token."""
    world, app, files = fresh
    loan = _loans(world, 31)[0]
    _assign(world, "collector", loan)
    with TestClient(app, raise_server_exceptions=False) as client:
        made = client.post("/api/agreements", json=_body(loan), headers=world.headers("collector"))
        assert made.status_code == 201, made.text
        number = made.json()["agreement_id"]

        client.cookies.set(SESSION_COOKIE, _session(world, "collection_supervisor"))
        forged = client.post(  # an auto-submitted HTML form without fields
            f"/api/agreements/{number}/approve",
            content=b"",
            headers={"Origin": FOREIGN_ORIGIN, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert forged.status_code == 403, forged.text
        assert forged.json()["error"]["code"] == "csrf_failed"
        assert CSRF_HEADER in forged.json()["error"]["message"]

        client.cookies.set(SESSION_COOKIE, _session(world, "admin"))
        upload = (files / "customers.csv").read_bytes()
        forged_import = client.post(
            "/api/imports/customers",
            files={"file": ("customers.csv", upload, "text/csv")},
            headers={"Origin": FOREIGN_ORIGIN},
        )
        assert forged_import.status_code == 403, forged_import.text
        assert forged_import.json()["error"]["code"] == "csrf_failed"
        assert _audit_count(world, "import.run") == 0

        engine = engine_for(world.url)
        with engine.connect() as conn:
            status = conn.execute(
                select(agreements.c.status).where(agreements.c.agreement_id == number)
            ).scalar_one()
        engine.dispose()
        assert status == "proposed"  # nothing was approved

        # A wrong token is no better than none.
        client.cookies.set(SESSION_COOKIE, supervisor := _session(world, "collection_supervisor"))
        wrong = client.post(
            f"/api/agreements/{number}/approve",
            json={"note": "x"},
            headers={CSRF_HEADER: csrf_token(app, "another session")},
        )
        assert (wrong.status_code, wrong.json()["error"]["code"]) == (403, "csrf_failed")

        # The workbench's own page knows the token: with it the cookie works.
        approved = client.post(
            f"/api/agreements/{number}/approve",
            json={"note": "checked"},
            headers={CSRF_HEADER: csrf_token(app, supervisor)},
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["decided_by"] == "collection_supervisor"

        # Reads with the cookie need no token; bearer tokens never do.
        assert client.get("/api/auth/me").json()["username"] == "collection_supervisor"
        client.cookies.clear()
        imported = client.post(
            "/api/imports/customers",
            files={"file": ("customers.csv", upload, "text/csv")},
            headers=world.headers("admin"),
        )
        assert imported.status_code == 200, imported.text


# State-changing routes that authenticate nobody (so no cookie to forge).
UNAUTHENTICATED_WRITES = {("POST", "/api/auth/login")}


def _state_changing_operations(app: FastAPI) -> list[tuple[str, str]]:
    """Every operation that may change state, from the OpenAPI schema (a route added later is
    in it too), but logging in."""
    operations = [
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in STATE_CHANGING
    ]
    assert set(operations) >= UNAUTHENTICATED_WRITES
    return [op for op in operations if op not in UNAUTHENTICATED_WRITES]


def _fill(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: "customers" if m.group(1) == "kind" else "1", path)


def test_every_state_changing_route_refuses_the_cookie_without_token(
    app: FastAPI, world: World
) -> None:
    operations = _state_changing_operations(app)
    assert ("POST", "/api/agreements/{agreement_id}/approve") in operations
    assert ("POST", "/api/imports/{kind}") in operations
    assert ("PUT", "/api/policy") in operations and len(operations) >= 20
    token = _session(world, "admin")
    with TestClient(app, raise_server_exceptions=False) as client:
        client.cookies.set(SESSION_COOKIE, token)
        for method, path in operations:
            r = client.request(method, _fill(path), headers={"Origin": FOREIGN_ORIGIN})
            assert r.status_code == 403, (method, path, r.status_code, r.text)
            assert r.json()["error"]["code"] == "csrf_failed", (method, path)
        # the same cookie still reads, and logging in is not cookie-authenticated
        assert client.get("/api/auth/me").status_code == 200
        login = client.post("/api/auth/login", json={"username": "admin", "password": "wrong"})
        assert login.status_code == 401


# --- security headers ------------------------------------------------------------------------


def _hardened_app(url: str) -> FastAPI:
    """The served app (API + pages), with a route of each kind that fails unexpectedly."""
    from postloan.web import mount

    app = create_app(url)
    mount(app)

    def fails() -> None:
        raise RuntimeError(f"disk error in {Path(__file__).resolve()} (connection pool 0x7f3a)")

    app.add_api_route("/api/test-fails", fails, include_in_schema=False)
    app.add_api_route("/test-page-fails", fails, include_in_schema=False)
    return app


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = ready(f"sqlite:///{tmp_path_factory.mktemp('hardening') / 'store.sqlite'}")
    with TestClient(_hardened_app(url), raise_server_exceptions=False) as client:
        yield client


RESPONSES = [  # method, path, expected status, static?
    ("GET", "/api/auth/me", 401, False),
    ("POST", "/api/auth/login", 422, False),
    ("GET", "/api/no-such-route", 404, False),
    ("DELETE", "/api/policy", 405, False),
    ("GET", "/api/test-fails", 500, False),
    ("GET", "/test-page-fails", 500, False),
    ("GET", "/login", 200, False),
    ("GET", "/", 303, False),
    ("GET", "/openapi.json", 200, False),
    ("GET", "/docs", 200, False),
    ("GET", "/static/app.css", 200, True),
    ("GET", "/static/vendor/htmx.min.js", 200, True),
    ("GET", "/docs/assets/api-docs.js", 200, True),
    ("GET", "/static/no-such-file.js", 404, True),
]


@pytest.mark.parametrize(("method", "path", "status", "static"), RESPONSES)
def test_security_headers_on_every_response(
    served: TestClient, method: str, path: str, status: int, static: bool
) -> None:
    if path == "/docs" and docs_assets_missing():
        pytest.skip("run scripts/vendor_web_assets.py (Swagger UI missing)")
    r = served.request(method, path, follow_redirects=False)
    assert r.status_code == status, r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] in ("same-origin", "no-referrer")
    assert re.fullmatch(r"[0-9a-f]{16}", r.headers["x-request-id"])
    if static:
        assert "no-store" not in r.headers["cache-control"]
    else:
        assert r.headers["cache-control"] == "no-store"


def test_body_limit_answer_has_the_headers_too(served: TestClient) -> None:
    r = served.post(
        "/api/auth/login", content=b" " * (2 << 20), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"


# --- /docs from the package ------------------------------------------------------------------


@pytest.mark.skipif(bool(docs_assets_missing()), reason="run scripts/vendor_web_assets.py")
def test_docs_are_served_from_the_package(served: TestClient) -> None:
    page = served.get("/docs")
    assert page.status_code == 200
    html = page.text
    assert "<script>" not in html.replace(" ", "")  # no inline script: the CSP forbids it
    references = re.findall(r"""(?:src|href|content)=["']([^"']+)["']""", html)
    assert references and not [ref for ref in references if "//" in ref]  # no other host
    for asset in re.findall(r"""(?:src|href)=["']([^"']+)["']""", html):
        served_asset = served.get(asset)
        assert served_asset.status_code == 200, asset
        assert len(served_asset.content) > 1000
    bundle = served.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle" in bundle.text
    for gone in ("/redoc", "/docs/oauth2-redirect", "/docs/assets/../../app.py"):
        assert served.get(gone).status_code == 404, gone


def test_docs_page_carries_the_csrf_token_of_a_signed_in_user(served: TestClient) -> None:
    if docs_assets_missing():
        pytest.skip("run scripts/vendor_web_assets.py")
    served.cookies.set(SESSION_COOKIE, "a-session")
    try:
        html = served.get("/docs").text
    finally:
        served.cookies.clear()
    expected = csrf_token(served.app, "a-session")  # type: ignore[arg-type]
    assert f'<meta name="postloan-csrf" content="{expected}">' in html


# --- errors without internals ----------------------------------------------------------------


def test_unexpected_errors_answer_generically_and_log_the_details(
    served: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="postloan.http"):
        api = served.get("/api/test-fails")
        page = served.get("/test-page-fails")
    assert api.status_code == 500 and page.status_code == 500
    error = api.json()["error"]
    assert error["code"] == "internal" and error["request_id"] == api.headers["x-request-id"]
    assert error["request_id"] in error["message"]
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["x-request-id"] in page.text
    for body in (api.text, page.text):
        for internal in ("Traceback", "RuntimeError", "disk error", "0x7f3a", "tests/api", ".py"):
            assert internal not in body, internal
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert api.headers["x-request-id"] in logged and "disk error" in logged


def test_validation_errors_name_the_field_not_internals(served: TestClient) -> None:
    r = served.post("/api/auth/login", json={"username": "x", "password": 123456})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["field"] == "password" and "password" in error["message"]
    assert "pydantic" not in r.text and "Traceback" not in r.text and "/" not in error["message"]


def test_server_paths_are_cut_from_error_messages(tmp_path: Path) -> None:
    upload = Path(os.path.realpath(tmp_path)) / "postloan-upload-x1y2" / "customers.csv"
    message = public_message(f"customers.csv: cannot import: no such column in {upload}")
    assert message == "customers.csv: cannot import: no such column in customers.csv"
    installed = Path(sys.prefix) / "lib" / "python3.11" / "site-packages" / "polars" / "io.py"
    assert str(installed.parent) not in public_message(f"failed at {installed}:12")
    assert public_message("see /api/auth/login") == "see /api/auth/login"  # URLs stay
    assert "Traceback" not in public_message('Traceback (most recent call last):\n  File "x"')


# --- body limits -----------------------------------------------------------------------------


def test_body_limits_by_route_and_chunked(
    served: TestClient, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Content-Length over 1 MB outside imports: refused before reading
    big = served.post(
        "/api/auth/login", content=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "text/plain"}
    )
    assert (big.status_code, big.json()["error"]["code"]) == (413, "too_large")
    assert "1 MB" in big.json()["error"]["message"]

    # no Content-Length (chunked): counted as it streams
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    streamed = served.post(
        "/api/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert (streamed.status_code, streamed.json()["error"]["code"]) == (413, "too_large")
    small = served.post("/api/auth/login", json={"username": "nobody", "password": "x" * 900})
    assert small.status_code == 401  # under the limit: the route answers

    # imports take large files (default 512 MB), up to their own configurable limit
    monkeypatch.setenv(UPLOAD_LIMIT_VAR, "2")
    monkeypatch.setenv(BODY_LIMIT_VAR, "64")
    assert BodyLimits.from_env() == BodyLimits(other=64 * 1024, uploads=2 * 1024 * 1024)
    app = create_app(world.url, policy_path=tmp_path / "policy.toml")
    # 1.5 MB whose columns are wrong: the route reads it all and refuses it (4xx naming the
    # file) without touching the shared store — what matters is that the limit let it through
    csv = b"not_a_column\n" + b"".join(b"%080d\n" % i for i in range(18_000))
    assert 1024 * 1024 < len(csv) < 2 * 1024 * 1024
    with TestClient(app, raise_server_exceptions=False) as client:
        h = world.headers("admin")
        ok = client.post(
            "/api/imports/customers", files={"file": ("c.csv", csv, "text/csv")}, headers=h
        )
        assert ok.status_code in (400, 422) and ok.json()["error"]["field"] == "file", ok.text
        too_big = csv * 2
        refused = client.post(
            "/api/imports/customers", files={"file": ("c.csv", too_big, "text/csv")}, headers=h
        )
        assert refused.status_code == 413 and "2 MB" in refused.json()["error"]["message"]

        def upload_chunks() -> Iterator[bytes]:
            boundary = b"--b0undary\r\n"
            yield boundary + b'Content-Disposition: form-data; name="file"; filename="c.csv"\r\n'
            yield b"Content-Type: text/csv\r\n\r\n"
            for start in range(0, len(too_big), 65536):
                yield too_big[start : start + 65536]
            yield b"\r\n--b0undary--\r\n"

        chunked = client.post(
            "/api/imports/customers",
            content=upload_chunks(),
            headers={**h, "Content-Type": "multipart/form-data; boundary=b0undary"},
        )
        assert chunked.status_code == 413, chunked.text
        json_limit = client.put("/api/policy", content=b"#" * 70_000, headers=h)
        assert json_limit.status_code == 413 and "64 KB" in json_limit.json()["error"]["message"]
    monkeypatch.setenv(UPLOAD_LIMIT_VAR, "lots")
    with pytest.raises(ValueError, match=UPLOAD_LIMIT_VAR):
        BodyLimits.from_env()


SERVER = """
import sys
from postloan.cli.serve_cmd import serve_app
serve_app(sys.argv[1], "127.0.0.1", int(sys.argv[2]))
"""


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def _raw_request(port: int, head: bytes, body: Iterator[bytes]) -> bytes:
    """Send a request as a browser or curl would, stopping when the server hangs up."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        try:
            for chunk in body:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused early and closed: what we want
        answer = b""
        try:
            while part := sock.recv(65536):
                answer += part
        except ConnectionResetError:
            pass
    return answer


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_a_200_mb_login_body_does_not_grow_the_server(tmp_path: Path) -> None:
    """The reproduction: a 200 MB login body took the server from 224 to 758 MB. Now its peak
    memory barely moves, with a Content-Length and chunked alike (`postloan serve`'s server)."""
    url = ready(f"sqlite:///{tmp_path / 'store.sqlite'}")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, url, str(port)],
        env={**os.environ, "POSTLOAN_WEB_SECRET": "x" * 64},
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "no server"
                time.sleep(0.2)
        _raw_request(port, b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", iter(()))
        before = _kib(server.pid, "VmHWM")
        size, piece = 200 * 1024 * 1024, b"x" * (1024 * 1024)
        head = (
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % size
        )
        answer = _raw_request(port, head, (piece for _ in range(200)))
        assert b" 413 " in answer.split(b"\r\n", 1)[0] or not answer
        chunked_head = (
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        framed = (b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(200))
        answer = _raw_request(port, chunked_head, framed)
        assert b" 413 " in answer.split(b"\r\n", 1)[0] or not answer
        after = _kib(server.pid, "VmHWM")
        # report the figures (pytest -s): peak RSS before and after both attempts
        print(f"server peak RSS: {before / 1024:.0f} MB before, {after / 1024:.0f} MB after")
        assert after - before < 64 * 1024, (before, after)
        # and the refusal comes before any of the body is read
        answer = _raw_request(port, head, iter(()))
        status, _, rest = answer.partition(b"\r\n")
        assert b" 413 " in status, answer[:200]
        assert b"\r\nserver:" not in rest.lower().split(b"\r\n\r\n")[0]  # no "uvicorn"
        assert json.loads(rest.split(b"\r\n\r\n", 1)[1])["error"]["code"] == "too_large"
    finally:
        server.terminate()
        server.wait(10)

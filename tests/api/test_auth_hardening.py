"""Issue 10 over HTTP: the lock-out holds under parallel guesses against a live server
(defect 2); password checks leave the event loop free and failed sign-ins are rate-limited
(defect 7); refusals do not reveal the account's state; API logout ends the cookie it set."""

from __future__ import annotations

import json
import re
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from postloan.access.passwords import HASHER, verify_password
from postloan.access.tables import audit_log, users
from postloan.access.users import create_user, disable_user
from postloan.api.app import create_app
from postloan.store.db import engine_for
from tests.api.conftest import PASSWORD, World
from tests.web.live import serving

CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@pytest.fixture
def app(world: World, tmp_path: Path) -> FastAPI:
    """The API and the workbench over the shared store, with fresh rate-limit counts."""
    from postloan.web import mount

    made = create_app(world.url, policy_path=tmp_path / "policy.toml")
    mount(made)
    return made


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as c:
        yield c


def _new_user(world: World, role: str = "auditor", **extra: object) -> str:
    username = f"u{uuid.uuid4().hex[:10]}"
    engine = engine_for(world.url)
    with engine.begin() as conn:
        create_user(conn, username=username, password=PASSWORD, role=role, **extra)  # type: ignore[arg-type]
    engine.dispose()
    return username


def _user_row(world: World, username: str) -> object:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).one()
    engine.dispose()
    return row


def _audit_after(world: World, seq: int) -> list[tuple[str, str | None, dict[str, object]]]:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_log).where(audit_log.c.seq > seq).order_by(audit_log.c.seq)
        ).all()
    engine.dispose()
    return [(r.action, r.target_id, json.loads(r.detail)) for r in rows]


def _head(world: World) -> int:
    engine = engine_for(world.url)
    with engine.connect() as conn:
        seq = conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq.desc())).first()
    engine.dispose()
    return 0 if seq is None else int(seq[0])


def _login(client: TestClient | httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post("/api/auth/login", json={"username": username, "password": password})


# --- defect 2: the lock-out under parallel guesses, against a live server -------------------


def test_parallel_wrong_logins_lock_the_account(world: World, app: FastAPI) -> None:
    """The reproduction: `seq 12 | xargs -P12 curl … /api/auth/login` left failed_attempts=1."""
    username = _new_user(world)
    guesses = 12
    start = threading.Barrier(guesses, timeout=60)
    with serving(app) as base:

        def guess(n: int) -> int:
            with httpx.Client(base_url=base, timeout=60) as http:
                start.wait()
                return _login(http, username, f"guess-{n}").status_code

        with ThreadPoolExecutor(guesses) as pool:
            statuses = list(pool.map(guess, range(guesses)))
        assert set(statuses) <= {401, 429}, statuses  # never signed in, never a 500
        row = _user_row(world, username)
        assert row.locked_until is not None, "twelve parallel guesses did not lock the account"  # type: ignore[attr-defined]
        with httpx.Client(base_url=base, timeout=60) as http:  # the right password: refused
            assert _login(http, username, PASSWORD).status_code in (401, 429)


# --- login answers ----------------------------------------------------------------------------


def test_refusals_do_not_reveal_the_account_state(world: World, client: TestClient) -> None:
    locked, disabled, wrong = _new_user(world), _new_user(world), _new_user(world)
    for _ in range(5):
        _login(client, locked, "wrong password")
    engine = engine_for(world.url)
    with engine.begin() as conn:
        disable_user(conn, disabled)
    engine.dispose()
    before = _head(world)
    answers = [
        _login(client, "nobody-here", PASSWORD),
        _login(client, wrong, "wrong password"),
        _login(client, locked, PASSWORD),  # right password, locked account
        _login(client, disabled, PASSWORD),  # right password, disabled account
    ]
    assert [a.status_code for a in answers] == [401] * 4
    assert len({a.text for a in answers}) == 1, [a.text for a in answers]
    assert answers[0].json()["error"]["code"] == "authentication_failed"
    reasons = [d["reason"] for action, _, d in _audit_after(world, before)]
    assert reasons == ["unknown_user", "wrong_password", "locked", "disabled"]


# --- defect 7: the event loop while passwords are checked ------------------------------------


def _web_login(base: str, username: str, password: str) -> int:
    with httpx.Client(base_url=base, timeout=120, follow_redirects=False) as http:
        page = http.get("/login")
        token = CSRF_RE.search(page.text)
        assert token, "no CSRF token on the login page"
        form = {"username": username, "password": password, "csrf_token": token.group(1)}
        return http.post("/login", data=form).status_code


def test_password_checks_do_not_block_other_requests(world: World, app: FastAPI) -> None:
    """16 wrong web logins, 8 at a time, used to raise /api/auth/me from 4 ms to seconds:
    Argon2 ran on the event loop, so every request waited for the hashes queued before it."""
    one_hash = statistics.median(
        _timed(lambda: verify_password(HASHER.hash("x" * 12), "y" * 12)) for _ in range(3)
    )
    headers = world.headers("auditor")
    with serving(app) as base, httpx.Client(base_url=base, timeout=120) as me_client:
        for _ in range(5):  # warm up
            assert me_client.get("/api/auth/me", headers=headers).status_code == 200
        quiet = [_timed(lambda: me_client.get("/api/auth/me", headers=headers)) for _ in range(10)]
        busy: list[float] = []
        storm_over = threading.Event()

        def poll_me() -> None:
            while not storm_over.is_set():
                busy.append(_timed(lambda: me_client.get("/api/auth/me", headers=headers)))
                time.sleep(0.02)

        poller = threading.Thread(target=poll_me)
        with ThreadPoolExecutor(8) as pool:
            storm = [pool.submit(_web_login, base, f"nobody-{n}", "a wrong password")
                     for n in range(16)]  # fmt: skip
            poller.start()
            statuses = [f.result() for f in storm]
        storm_over.set()
        poller.join()
    assert statuses == [401] * 16
    assert len(busy) >= 5, busy
    # Served while 16 hashes run: never behind a queue of them on the loop. (Before: the
    # slowest took several hashes' time, the median at least one.)
    assert statistics.median(busy) < max(0.5 * one_hash, 10 * statistics.median(quiet)), (
        busy, quiet, one_hash,
    )  # fmt: skip
    # No request behind a queue of hashes: on the loop, 8 logins at a time made the slowest
    # wait ≈ 8 hashes. One scheduling blip on a loaded 2-core machine (CI runs two test
    # workers) took one sample to 2.4 hashes once, so: all but the slowest within 2 hashes,
    # the slowest within 4 — half of what a queue on the loop gives.
    ordered = sorted(busy)
    assert ordered[-2] < 2 * one_hash, (busy, one_hash)
    assert ordered[-1] < 4 * one_hash, (busy, one_hash)


def _timed(call: object) -> float:
    start = time.perf_counter()
    call()  # type: ignore[operator]
    return time.perf_counter() - start


# --- defect 7: rate limits --------------------------------------------------------------------


def test_failed_logins_per_username_are_limited(world: World, client: TestClient) -> None:
    before = _head(world)
    target = f"nobody-{uuid.uuid4().hex[:6]}"  # unknown: never locked, every attempt hashes
    statuses = [_login(client, target, f"guess {n}").status_code for n in range(10)]
    assert statuses == [401] * 10
    refused = [_login(client, target, "guess again") for _ in range(3)]
    assert [r.status_code for r in refused] == [429] * 3
    first = refused[0]
    assert first.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(first.headers["retry-after"]) <= 900
    # another username from the same client is still checked
    assert _login(client, "nobody-else", "guess").status_code == 401
    throttled = [e for e in _audit_after(world, before) if e[0] == "auth.login_throttled"]
    assert throttled == [
        ("auth.login_throttled", target, {"via": "api", "client": "testclient",
                                          "limit": "username"}),
    ]  # fmt: skip


def test_failed_logins_per_client_are_limited(client: TestClient) -> None:
    statuses = [_login(client, f"spray-{n}", "Summer2026!").status_code for n in range(20)]
    assert statuses == [401] * 20
    refused = _login(client, "spray-x", "Summer2026!")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1


def test_workers_share_the_limits(world: World, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """`postloan serve --workers N` counts in the store: the failures one worker saw count on
    the other, so two workers do not give a sprayer twice the limit."""
    from postloan.access.shared_ratelimit import SharedLoginLimiter
    from postloan.access.tables import login_attempts
    from postloan.api.routes.auth import LIMITS_VAR, login_limiter

    monkeypatch.setenv(LIMITS_VAR, "shared")
    workers = [create_app(world.url, policy_path=tmp_path / "policy.toml") for _ in range(2)]
    assert all(isinstance(login_limiter(w), SharedLoginLimiter) for w in workers)
    try:
        with TestClient(workers[0]) as one, TestClient(workers[1]) as two:
            statuses = [_login((one, two)[n % 2], f"spray-{n}", "Summer2026!").status_code
                        for n in range(20)]  # fmt: skip
            assert statuses == [401] * 20
            for worker in (one, two):
                refused = _login(worker, "spray-x", "Summer2026!")
                assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    finally:
        engine = engine_for(world.url)
        with engine.begin() as conn:  # the store outlives this test: leave no counts behind
            conn.execute(login_attempts.delete())
        engine.dispose()


def test_successful_logins_do_not_count(world: World, client: TestClient) -> None:
    for _ in range(25):
        assert _login(client, "auditor", PASSWORD).status_code == 200


def test_the_web_login_page_says_so(world: World, app: FastAPI, client: TestClient) -> None:
    from postloan.access.ratelimit import Limit, LoginLimiter

    app.state.login_limiter = LoginLimiter(per_client=Limit(1, 60), per_username=Limit(1, 60))
    page = client.get("/login")
    form = {"username": "nobody", "password": "wrong password", "csrf_token": ""}
    form["csrf_token"] = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
    assert client.post("/login", data=form).status_code == 401
    zh = client.post("/login", data=form)
    assert zh.status_code == 429 and int(zh.headers["retry-after"]) >= 1
    assert "登录失败次数过多" in zh.text
    client.cookies.set("postloan_lang", "en")
    en = client.post("/login", data=form)
    assert en.status_code == 429 and "Too many failed sign-ins" in en.text


# --- logout -----------------------------------------------------------------------------------


def test_api_logout_ends_the_session_cookie_it_set(client: TestClient, app: FastAPI) -> None:
    signed = _login(client, "manager", PASSWORD)
    token, cookie = signed.json()["token"], signed.cookies["postloan_session"]
    with TestClient(app) as script:  # a script that keeps no cookies logs out
        out = script.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert out.status_code == 200 and out.json()["revoked"] == 2
        assert "postloan_session=" in out.headers["set-cookie"]
        assert "max-age=0" in out.headers["set-cookie"].lower()
    with TestClient(app) as browser:  # the cookie it set in the browser is dead too
        browser.cookies.set("postloan_session", cookie)
        assert browser.get("/api/auth/me").status_code == 401


def test_web_logout_ends_the_whole_login(client: TestClient, app: FastAPI) -> None:
    signed = _login(client, "manager", PASSWORD)
    token = signed.json()["token"]
    home = client.get("/")
    assert home.status_code == 200
    csrf = CSRF_RE.search(home.text)
    assert csrf
    assert client.post("/logout", data={"csrf_token": csrf.group(1)}).status_code == 303
    with TestClient(app) as script:
        me = script.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401


def test_login_tokens_are_paired_by_instant(world: World) -> None:
    """Only the login's own tokens end: another login of the same user stays signed in."""
    from postloan.access.tokens import TokenKind, issue_login_tokens, resolve_token, revoke_login

    engine = engine_for(world.url)
    user_id = world.users["manager"].user_id
    with engine.begin() as conn:
        first = issue_login_tokens(conn, user_id, (TokenKind.API, TokenKind.SESSION),
                                   datetime.now(UTC))  # fmt: skip
        second = issue_login_tokens(conn, user_id, (TokenKind.API, TokenKind.SESSION),
                                    datetime.now(UTC))  # fmt: skip
        assert revoke_login(conn, first[TokenKind.API]) == 2
        now = datetime.now(UTC)
        assert resolve_token(conn, first[TokenKind.SESSION], now) is None
        assert resolve_token(conn, second[TokenKind.SESSION], now) is not None
        assert resolve_token(conn, second[TokenKind.API], now) is not None
    engine.dispose()

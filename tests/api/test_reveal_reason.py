"""The API and the workbench refuse a reveal whose reason is below the policy's minimum, and say
so naming `reason` and the minimum; the minimum is the policy in force's."""

from __future__ import annotations

import pytest

from tests.api import personal_store
from tests.api.personal_store import TARGET, TARGET_PHONE, People, policy_text, web_login

people = personal_store.people  # the fixture (a module attribute, so pytest finds it here)

STRICT = policy_text(min_reason_chars=20)


@pytest.mark.parametrize("reason", ["aaaaaaaaaa", "核实身", "x", "  ab ab ab  "])
def test_api_refuses_a_meaningless_reason(people: People, reason: str) -> None:
    audited = len(people.reveals())
    with people.client() as client:
        for url, body in (
            (f"/api/customers/{TARGET}/reveal", {"field": "phone", "reason": reason}),
            ("/api/customers/lookup", {"identifier": TARGET_PHONE, "reason": reason}),
        ):
            answer = client.post(url, headers=people.headers("legal_officer"), json=body)
            assert answer.status_code == 422, answer.text
            error = answer.json()["error"]
            assert error["field"] == "reason" and "at least 8 characters" in error["message"]
    assert len(people.reveals()) == audited


def test_the_policy_in_force_sets_the_minimum(people: People) -> None:
    audited = len(people.reveals())
    url = f"/api/customers/{TARGET}/reveal"
    with people.client(STRICT) as client:
        legal = people.headers("legal_officer")
        short = client.post(url, headers=legal, json={"field": "phone", "reason": "court filing"})
        assert short.status_code == 422 and "at least 20 characters" in short.text
        long_enough = {"field": "phone", "reason": "court filing for case 2026-17"}
        ok = client.post(url, headers=legal, json=long_enough)
        assert ok.status_code == 200 and ok.json()["value"] == TARGET_PHONE
    with people.client() as client:  # the packaged policy's 8 units
        ok = client.post(url, headers=people.headers("legal_officer"),
                         json={"field": "phone", "reason": "court filing"})  # fmt: skip
        assert ok.status_code == 200
    assert len(people.reveals()) == audited + 2


def test_workbench_states_the_policy_minimum(people: People) -> None:
    audited = len(people.reveals())
    with people.client(STRICT, web=True) as web:
        web.cookies.set("postloan_lang", "en")
        token = web_login(web, "legal_officer")
        url = f"/customers/{TARGET}/reveal"
        short = web.post(
            url, data={"field": "phone", "reason": "court filing", "csrf_token": token}
        )
        assert short.status_code == 200 and 'class="mono revealed"' not in short.text
        assert "at least 20 characters" in short.text
        ok = web.post(url, data={"field": "phone", "reason": "court filing for case 2026-17",
                                 "csrf_token": token})  # fmt: skip
        assert TARGET_PHONE in ok.text
    assert len(people.reveals()) == audited + 1

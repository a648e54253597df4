"""Issue 10, defect 3: masking could be worked around through search.

As `marketing`, `GET /api/customers?q=<digits>` matched phone suffixes: adding one digit at a
time recovered a full mobile; the workbench's search matched an exact ID number, so a masked
ID was recovered by trying candidate numbers; neither was audited. Now a search matches only
the characters the caller's mask shows, a whole mobile or ID number is refused (422 `q`), and
finding who holds one is a reveal (`POST /api/customers/lookup`: permission, reason, audit).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from postloan.access.permissions import Action, can
from postloan.access.roles import Role
from postloan.ids import prc_id_check_digit
from tests.api import personal_store
from tests.api.personal_store import (
    OUT_OF_BRANCH,
    TARGET,
    TARGET_ID,
    TARGET_NAME,
    TARGET_PHONE,
    People,
    web_login,
)

# The fixtures of the masking store (module attributes, so pytest finds them here).
people, client = personal_store.people, personal_store.client

SEARCH_ROLES = [role.value for role in Role if can(role, Action.CUSTOMER_SEARCH)]
REVEAL_ROLES = [role.value for role in Role if can(role, Action.CUSTOMER_REVEAL)]
NO_REVEAL_ROLES = [role for role in SEARCH_ROLES if role not in REVEAL_ROLES]


def _finds(client: TestClient, people: People, role: str) -> Callable[[str], bool]:
    """The attacker's oracle: does a search for `q` list the target?"""

    def finds(q: str) -> bool:
        answer = client.get("/api/customers", headers=people.headers(role), params={"q": q})
        assert answer.status_code in (200, 422), answer.text
        assert TARGET_PHONE not in answer.text and TARGET_ID not in answer.text
        return answer.status_code == 200 and TARGET in {
            c["customer_id"] for c in answer.json()["items"]
        }

    return finds


def _recover_suffix(finds: Callable[[str], bool], known: str, length: int) -> tuple[str, int]:
    """Grow the known tail one digit at a time while the search still lists the target."""
    tries = 0
    while len(known) < length:
        for digit in "0123456789":
            tries += 1
            if finds(digit + known):
                known = digit + known
                break
        else:
            break
    return known, tries


@pytest.mark.parametrize("role", SEARCH_ROLES)
def test_phone_suffix_search_recovers_nothing_hidden(
    client: TestClient, people: People, role: str
) -> None:
    """The reproduction: start from the digits the mask shows and add one at a time."""
    listed = client.get("/api/customers", headers=people.headers(role), params={"q": TARGET_NAME})
    (shown,) = [c for c in listed.json()["items"] if c["customer_id"] == TARGET]
    assert shown["phone"] == "139****5678"
    recovered, tries = _recover_suffix(_finds(client, people, role), shown["phone"][-4:], 11)
    assert recovered == "5678", f"{role} recovered {recovered} in {tries} searches"
    assert tries == 10  # one round of ten candidates for the fifth digit, none listed it


@pytest.mark.parametrize("role", SEARCH_ROLES)
def test_no_search_matches_a_hidden_digit(client: TestClient, people: People, role: str) -> None:
    finds = _finds(client, people, role)
    for hidden in (TARGET_PHONE[-5:], TARGET_PHONE[3:7], TARGET_PHONE[:7], TARGET_ID[6:14],
                   TARGET_ID[-5:], TARGET_ID[:10]):  # fmt: skip
        assert not finds(hidden), hidden


@pytest.mark.parametrize("role", SEARCH_ROLES)
def test_a_whole_identifier_is_not_a_search(client: TestClient, people: People, role: str) -> None:
    audited = len(people.reveals())
    for whole in (TARGET_PHONE, TARGET_ID, TARGET_ID.lower(), "139 1234 5678", "13900000000"):
        answer = client.get("/api/customers", headers=people.headers(role), params={"q": whole})
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["field"] == "q" and error["code"] == "identifier_search"
        assert "reveal" in error["message"]
    assert len(people.reveals()) == audited  # refused, not revealed: nothing to audit


def _candidate_ids(year_start: date, days: int, area: str, tail: str) -> list[str]:
    """Every ID number with the mask's visible ends (area code, last 4) and a birth date in
    the range whose check digit fits — what an attacker who knows the age range tries."""
    out = []
    for offset in range(days):
        born = (year_start + timedelta(days=offset)).strftime("%Y%m%d")
        first17 = area + born + tail[:3]
        if prc_id_check_digit(first17) == tail[3]:
            out.append(first17 + tail[3])
    return out


def test_id_candidates_recover_nothing_through_the_api(client: TestClient, people: People) -> None:
    candidates = _candidate_ids(date(1990, 1, 1), 365, TARGET_ID[:6], TARGET_ID[-4:])
    assert TARGET_ID in candidates and len(candidates) > 10
    finds = _finds(client, people, "marketing")
    assert not any(finds(candidate) for candidate in candidates)


def test_id_candidates_recover_nothing_through_the_workbench(people: People) -> None:
    """The workbench's search matched an exact ID number: the right candidate listed the
    customer. It is the same search as the API's now."""
    candidates = _candidate_ids(date(1990, 1, 1), 365, TARGET_ID[:6], TARGET_ID[-4:])
    audited = len(people.reveals())
    with people.client(web=True) as web:
        web_login(web, "manager")
        htmx = {"HX-Request": "true", "HX-Target": "results"}
        listed = [
            c
            for c in candidates
            if TARGET in web.get("/customers", params={"q": c}, headers=htmx).text
        ]
        assert listed == []
        for whole in (TARGET_ID, TARGET_PHONE):
            page = web.get("/customers", params={"q": whole})
            assert page.status_code == 200 and TARGET not in page.text
    assert len(people.reveals()) == audited


@pytest.mark.parametrize("role", SEARCH_ROLES)
def test_legitimate_searches_still_work(client: TestClient, people: People, role: str) -> None:
    h = people.headers(role)

    def ids(q: str) -> list[str]:
        answer = client.get("/api/customers", headers=h, params={"q": q})
        assert answer.status_code == 200, answer.text
        return [c["customer_id"] for c in answer.json()["items"]]

    assert TARGET in ids(TARGET_NAME)
    assert TARGET in ids(TARGET_NAME[1:3])  # a part of the name
    assert TARGET in ids(TARGET)
    assert TARGET in ids("CU00")  # id prefix
    assert TARGET in ids(TARGET_PHONE[-4:])  # the last digits the mask shows
    id_tail = 2 if role == "collector" else 4
    assert TARGET in ids(TARGET_ID[-id_tail:].lower())
    everyone = ids("")
    assert everyone == sorted(everyone)  # ordered by customer id, never by a masked field


def test_collectors_see_fewer_id_digits_and_search_fewer(
    client: TestClient, people: People
) -> None:
    h = people.headers("collector")
    three = client.get("/api/customers", headers=h, params={"q": TARGET_ID[-3:]}).json()
    assert TARGET not in {c["customer_id"] for c in three["items"]}
    (shown,) = [
        c
        for c in client.get("/api/customers", headers=h).json()["items"]
        if c["customer_id"] == TARGET
    ]
    assert shown["id_number"] == TARGET_ID[:3] + "*" * 13 + TARGET_ID[-2:]


def _lookup(client: TestClient, people: People, role: str, identifier: str, reason: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/customers/lookup",
        headers=people.headers(role),
        json={"identifier": identifier, "reason": reason},
    )


@pytest.mark.parametrize("role", REVEAL_ROLES)
def test_a_whole_identifier_lookup_is_an_audited_reveal(
    client: TestClient, people: People, role: str
) -> None:
    id_masked = TARGET_ID[:6] + "*" * 8 + TARGET_ID[-4:]
    for identifier, field, masked in ((TARGET_PHONE, "phone", "139****5678"),
                                      (TARGET_ID.lower(), "id_number", id_masked)):  # fmt: skip
        found = _lookup(client, people, role, identifier, "客户来电核实身份")
        assert found.status_code == 200, found.text
        assert [c["customer_id"] for c in found.json()["items"]] == [TARGET]
        assert TARGET_PHONE not in found.text and TARGET_ID not in found.text  # listed masked
        entry = people.reveals()[-1]
        assert (entry.action, entry.actor, entry.target_id) == ("customer.reveal", role, TARGET)
        detail = json.loads(entry.detail)
        assert detail == {"field": field, "reason": "客户来电核实身份", "lookup": masked,
                          "matches": [TARGET]}  # fmt: skip
        assert TARGET_PHONE not in entry.detail and TARGET_ID not in entry.detail
    # a wrong candidate is audited too: trying numbers leaves a trail
    before = len(people.reveals())
    miss = _lookup(client, people, role, "13900000000", "verify caller identity")
    assert miss.status_code == 200 and miss.json()["items"] == []
    assert len(people.reveals()) == before + 1
    assert json.loads(people.reveals()[-1].detail)["matches"] == []


@pytest.mark.parametrize("role", NO_REVEAL_ROLES)
def test_roles_that_may_not_reveal_may_not_look_up(
    client: TestClient, people: People, role: str
) -> None:
    audited = len(people.reveals())
    refused = _lookup(client, people, role, TARGET_PHONE, "verify caller identity")
    assert refused.status_code == 403 and TARGET not in refused.text
    assert len(people.reveals()) == audited


def test_lookup_checks_reason_identifier_and_scope(client: TestClient, people: People) -> None:
    audited = len(people.reveals())
    for reason in ("", "aaaaaaaaaaaa", "核实身", "call"):
        short = _lookup(client, people, "credit_officer", TARGET_PHONE, reason)
        assert short.status_code == 422, reason
        assert (
            short.json()["error"]["field"] == "reason" and "8" in short.json()["error"]["message"]
        )
    partial = _lookup(client, people, "credit_officer", TARGET_PHONE[:7], "verify caller identity")
    assert partial.status_code == 422 and partial.json()["error"]["field"] == "identifier"
    assert len(people.reveals()) == audited
    # the credit officer's reveal scope is branch BR01: BR02's customers are not found
    phone = people.stored(OUT_OF_BRANCH, "phone")
    assert people.stored(OUT_OF_BRANCH, "branch_id") == "BR02"
    outside = _lookup(client, people, "credit_officer", phone, "verify caller identity")
    assert outside.status_code == 200 and outside.json()["items"] == []
    legal = _lookup(client, people, "legal_officer", phone, "court filing for the case")
    assert [c["customer_id"] for c in legal.json()["items"]] == [OUT_OF_BRANCH]


def test_workbench_lookup_is_the_same_reveal(people: People) -> None:
    audited = len(people.reveals())
    with people.client(web=True) as web:
        token = web_login(web, "legal_officer")
        page = web.get("/customers")
        assert 'action="/customers/lookup"' in page.text
        short = web.post(
            "/customers/lookup",
            data={"identifier": TARGET_PHONE, "reason": "x", "csrf_token": token},
        )
        assert short.status_code == 200 and TARGET not in short.text
        found = web.post(
            "/customers/lookup",
            data={"identifier": TARGET_ID, "reason": "法院立案需要核对", "csrf_token": token},
            headers={"HX-Request": "true", "HX-Target": "results"},
        )
        assert found.status_code == 200 and f'href="/customers/{TARGET}"' in found.text
        assert TARGET_ID not in found.text
        no_token = web.post(
            "/customers/lookup", data={"identifier": TARGET_ID, "reason": "法院立案需要核对"}
        )
        assert no_token.status_code == 403
    new = people.reveals()[audited:]
    assert [(e.actor, e.target_id) for e in new] == [("legal_officer", TARGET)]
    with people.client(web=True) as web:
        token = web_login(web, "manager")
        assert 'action="/customers/lookup"' not in web.get("/customers").text
        refused = web.post(
            "/customers/lookup",
            data={"identifier": TARGET_ID, "reason": "法院立案需要核对", "csrf_token": token},
        )
        assert refused.status_code == 403
    assert len(people.reveals()) == audited + 1

"""Bad input names the field (422), unknown things are 404, and nothing is a 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import World


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 201}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page": 0}, "page"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_bad_query_names_the_field(
    client: TestClient, world: World, params: dict[str, object], field: str
) -> None:
    r = client.get("/api/customers", headers=world.headers("admin"), params=params)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["field"] == field and error["code"] == "invalid"
    assert field in error["message"]


def test_unknown_things_are_404(client: TestClient, world: World) -> None:
    h = world.headers("admin")
    for url in ("/api/customers/NOPE", "/api/accounts/NOPE/status", "/api/runs/99999",
                "/api/no-such-route"):  # fmt: skip
        r = client.get(url, headers=h)
        assert r.status_code == 404, url
        assert r.json()["error"]["code"] == "not_found"
    cid, account = world.assigned["collector"][0], None
    view = client.get(f"/api/customers/{cid}", headers=h).json()
    account = view["status_history"][0]["account_id"]
    ok = client.get(f"/api/accounts/{account}/status", headers=h, params={"as_of": "2026-06-30"})
    assert ok.status_code == 200 and ok.json()["as_of"] == "2026-06-30"
    none = client.get(f"/api/accounts/{account}/status", headers=h, params={"as_of": "2020-01-01"})
    assert none.status_code == 404 and none.json()["error"]["field"] == "as_of"
    bad = client.get(f"/api/accounts/{account}/status", headers=h, params={"as_of": "June"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "as_of"


def test_method_not_allowed_and_bad_json(client: TestClient, world: World) -> None:
    h = world.headers("admin")
    r = client.delete("/api/policy", headers=h)
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    r = client.put("/api/policy", headers={**h, "Content-Type": "application/json"},
                   content=b"{not json")  # fmt: skip
    assert r.status_code == 422
    r = client.post("/api/auth/login", json={"username": "admin"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "password"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": "2026-06-30", "to": "2026-06-01"}, "to"),
        ({"from": "2026-06-30"}, "to"),
        ({"to": "2026-06-30"}, "from"),
        ({}, "as_of"),
        ({"as_of": "2026-06-30", "from": "2026-06-01", "to": "2026-06-30"}, "as_of"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"as_of": "2026-06-30", "bogus": 1}, "bogus"),
        ({"from": "2000-01-01", "to": "2026-06-30"}, "to"),
    ],
)
def test_bad_run_request(
    client: TestClient, world: World, body: dict[str, str], field: str
) -> None:
    r = client.post("/api/runs", headers=world.headers("admin"), json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"no_such_parameter": 1}, "no_such_parameter"),
        ({"dpd_buckets": "many"}, "dpd_buckets"),
    ],
)
def test_invalid_policy_names_the_parameter(
    client: TestClient, world: World, body: dict[str, object], field: str
) -> None:
    current = client.get("/api/policy", headers=world.headers("admin")).json()
    before = current["version"]
    r = client.put(
        "/api/policy", headers=world.headers("admin"), json={**current["policy"], **body}
    )
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_policy"
    assert error["field"].startswith(field)
    assert error["problems"]
    assert client.get("/api/policy", headers=world.headers("admin")).json()["version"] == before


def test_invalid_policy_nested_parameter(client: TestClient, world: World, tmp_path: Path) -> None:
    policy = client.get("/api/policy", headers=world.headers("admin")).json()["policy"]
    key = next(k for k, v in policy.items() if isinstance(v, dict))
    sub = next(k for k, v in policy[key].items() if not isinstance(v, dict | list))
    policy[key][sub] = {"not": "a value"}
    r = client.put("/api/policy", headers=world.headers("admin"), json=policy)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"].startswith(f"{key}.{sub}")


def test_nul_in_text_is_422_not_500(client: TestClient, world: World) -> None:
    h = world.headers("admin")
    r = client.get("/api/customers", headers=h, params={"q": "a\x00b"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "q"
    r = client.post("/api/auth/login", json={"username": "ad\x00min", "password": "whatever1"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "username"

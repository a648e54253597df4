"""The permission matrix, exhaustively: every role × every API route, as
`postloan.access.permissions` says; unauthenticated → 401."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from postloan.access.permissions import Action, can
from postloan.access.roles import Role
from postloan.access.scope import customer_scope_clause
from postloan.access.tokens import issue_token
from postloan.api.app import create_app
from postloan.churn.actions import ChurnAction
from postloan.collections.actions import CollectionsAction
from postloan.management.actions import ManagementAction
from postloan.policy import default_policy
from postloan.relationship import complaints
from postloan.relationship.actions import RelAction
from postloan.relationship.tables import complaints as table
from postloan.risk.actions import RiskAction
from postloan.store.db import engine_for
from postloan.store.schema import account_status, customers
from postloan.tiering.actions import TieringAction
from tests.api.conftest import PASSWORD, World

PUBLIC = "public"
AUTHENTICATED = "authenticated"

# Every route of the API and what it needs — written here, independently of the code.
ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/logout"): AUTHENTICATED,
    ("GET", "/api/auth/me"): AUTHENTICATED,
    ("GET", "/api/customers"): Action.CUSTOMER_SEARCH,
    ("GET", "/api/customers/{customer_id}"): Action.CUSTOMER_VIEW,
    ("POST", "/api/customers/{customer_id}/reveal"): Action.CUSTOMER_REVEAL,
    ("POST", "/api/customers/lookup"): Action.CUSTOMER_REVEAL,
    ("GET", "/api/accounts/{account_id}/status"): Action.ACCOUNT_VIEW,
    ("POST", "/api/imports/{kind}"): Action.IMPORT_RUN,
    ("POST", "/api/runs"): Action.RUN_START,
    ("GET", "/api/runs"): Action.RUN_VIEW,
    ("GET", "/api/runs/{run_id}"): Action.RUN_VIEW,
    ("DELETE", "/api/runs/dates/{as_of}"): Action.RUN_START,
    ("GET", "/api/policy"): Action.POLICY_VIEW,
    ("PUT", "/api/policy"): Action.POLICY_REPLACE,
    ("GET", "/api/collections/tasks"): CollectionsAction.CASE_VIEW,
    ("POST", "/api/collections/tasks/{task_id}/complete"): CollectionsAction.CONTACT_RECORD,
    ("POST", "/api/collections/contacts/check"): CollectionsAction.CONTACT_RECORD,
    ("POST", "/api/collections/contacts"): CollectionsAction.CONTACT_RECORD,
    ("GET", "/api/collections/compliance"): CollectionsAction.REPORT_COLLECTIONS,
    ("GET", "/api/collections/kpis"): CollectionsAction.REPORT_COLLECTIONS,
    ("GET", "/api/cases"): CollectionsAction.CASE_VIEW,
    ("POST", "/api/cases/{customer_id}/reassign"): CollectionsAction.CASE_ASSIGN,
    ("GET", "/api/reassignments"): CollectionsAction.CASE_VIEW,
    ("GET", "/api/alerts"): CollectionsAction.ALERT_VIEW,
    ("POST", "/api/alerts/{alert_id}/acknowledge"): CollectionsAction.ALERT_VIEW,
    ("GET", "/api/strategies/results"): CollectionsAction.REPORT_COLLECTIONS,
    ("GET", "/api/legal/proposals"): CollectionsAction.CASE_VIEW,
    ("POST", "/api/legal/proposals/{proposal_id}/accept"): CollectionsAction.LEGAL_MANAGE,
    ("POST", "/api/legal/proposals/{proposal_id}/decline"): CollectionsAction.LEGAL_MANAGE,
    ("GET", "/api/legal/matters"): CollectionsAction.CASE_VIEW,
    ("POST", "/api/legal/matters/{matter_id}/advance"): CollectionsAction.LEGAL_MANAGE,
    ("POST", "/api/legal/matters/{matter_id}/documents"): CollectionsAction.LEGAL_MANAGE,
    ("POST", "/api/legal/matters/{matter_id}/evidence"): CollectionsAction.LEGAL_MANAGE,
    ("POST", "/api/legal/matters/{matter_id}/costs"): CollectionsAction.LEGAL_MANAGE,
    ("GET", "/api/legal/disposals"): CollectionsAction.CASE_VIEW,
    ("POST", "/api/legal/disposals"): CollectionsAction.LEGAL_MANAGE,
    ("POST", "/api/legal/disposals/{disposal_id}/approve"): CollectionsAction.WRITEOFF_APPROVE,
    ("POST", "/api/legal/disposals/{disposal_id}/reject"): CollectionsAction.WRITEOFF_APPROVE,
    ("GET", "/api/agreements"): CollectionsAction.CASE_VIEW,
    ("POST", "/api/agreements"): CollectionsAction.AGREEMENT_PROPOSE,
    ("POST", "/api/agreements/{agreement_id}/approve"): CollectionsAction.AGREEMENT_APPROVE,
    ("POST", "/api/agreements/{agreement_id}/reject"): CollectionsAction.AGREEMENT_APPROVE,
    ("POST", "/api/agreements/{agreement_id}/withdraw"): CollectionsAction.AGREEMENT_PROPOSE,
    ("GET", "/api/collections/handovers"): CollectionsAction.CASE_VIEW,
    ("POST", "/api/collections/handovers/{handover_id}/accept"): CollectionsAction.CASE_ASSIGN,
    ("POST", "/api/collections/handovers/{handover_id}/decline"): CollectionsAction.CASE_ASSIGN,
    ("GET", "/api/churn/pool"): ChurnAction.VIEW,
    ("GET", "/api/churn/customers/{customer_id}"): ChurnAction.VIEW,
    ("POST", "/api/churn/customers/{customer_id}/reason"): ChurnAction.REASON,
    ("GET", "/api/churn/kpis"): ChurnAction.REPORT,
    ("GET", "/api/churn/measures"): ChurnAction.MEASURES,
    ("POST", "/api/churn/followups/{measure_id}/complete"): ChurnAction.FOLLOWUP,
    ("POST", "/api/churn/callbacks/{measure_id}/complete"): ChurnAction.CALLBACK,
    ("GET", "/api/churn/offers"): ChurnAction.MEASURES,
    ("POST", "/api/churn/offers/{offer_id}/accept"): ChurnAction.FOLLOWUP,
    ("POST", "/api/churn/offers/{offer_id}/decline"): ChurnAction.FOLLOWUP,
    ("GET", "/api/churn/evaluation"): ChurnAction.EVALUATE,
    ("GET", "/api/risk/customers/{customer_id}"): RiskAction.VIEW,
    ("POST", "/api/risk/customers/{customer_id}/overrides"): RiskAction.OVERRIDE,
    ("POST", "/api/risk/overrides/{override_id}/decision"): RiskAction.APPROVE,
    ("GET", "/api/risk/tasks"): RiskAction.VIEW,
    ("POST", "/api/risk/tasks/{task_id}/outcome"): RiskAction.ACT,
    ("GET", "/api/risk/watch"): RiskAction.VIEW,
    ("GET", "/api/risk/backtest"): RiskAction.BACKTEST,
    ("GET", "/api/risk/overrides/performance"): RiskAction.BACKTEST,
    ("GET", "/api/risk/models"): RiskAction.MODELS,
    ("GET", "/api/risk/models/{model_id}"): RiskAction.MODELS,
    ("GET", "/api/risk/models/{model_id}/review"): RiskAction.MODELS,
    ("GET", "/api/risk/models/{model_id}/monitoring"): RiskAction.MODELS,
    ("POST", "/api/risk/models"): RiskAction.MODEL_MANAGE,
    ("POST", "/api/risk/models/{model_id}/validate"): RiskAction.MODEL_MANAGE,
    ("GET", "/api/risk/models/{model_id}/validations"): RiskAction.MODELS,
    ("POST", "/api/risk/models/{model_id}/approve"): RiskAction.MODEL_APPROVE,
    ("POST", "/api/risk/models/{model_id}/retire"): RiskAction.MODEL_MANAGE,
    ("GET", "/api/tiering/customers/{customer_id}"): TieringAction.VIEW,
    ("GET", "/api/tiering/distribution"): TieringAction.REPORT,
    ("GET", "/api/tiering/transitions"): TieringAction.REPORT,
    ("GET", "/api/tiering/review"): TieringAction.REVIEW,
    ("GET", "/api/tiering/review.xlsx"): TieringAction.REVIEW,
    ("GET", "/api/tiering/rolls"): TieringAction.REVIEW,
    ("GET", "/api/tiering/strategies"): TieringAction.REPORT,
    ("GET", "/api/tiering/tree"): TieringAction.REVIEW,
    ("POST", "/api/tiering/whatif"): TieringAction.REVIEW,
    ("GET", "/api/tiering/tree/proposals"): TieringAction.REVIEW,
    ("GET", "/api/tiering/tree/proposals/{proposal_id}"): TieringAction.REVIEW,
    ("POST", "/api/tiering/tree/proposals"): TieringAction.ADOPT,
    ("POST", "/api/tiering/tree/proposals/{proposal_id}/decision"): TieringAction.ADOPT,
    ("GET", "/api/relationship/complaints"): RelAction.VIEW,
    ("POST", "/api/relationship/complaints"): RelAction.COMPLAINT,
    ("GET", "/api/relationship/complaints/{complaint_id}"): RelAction.VIEW,
    ("POST", "/api/relationship/complaints/{complaint_id}/assign"): RelAction.COMPLAINT,
    ("POST", "/api/relationship/complaints/{complaint_id}/complex"): RelAction.COMPLAINT,
    ("POST", "/api/relationship/complaints/{complaint_id}/extend"): RelAction.COMPLAINT_APPROVE,
    ("POST", "/api/relationship/complaints/{complaint_id}/decide"): RelAction.COMPLAINT,
    ("POST", "/api/relationship/complaints/{complaint_id}/trace"): RelAction.COMPLAINT,
    ("POST", "/api/relationship/complaints/{complaint_id}/goodwill"): RelAction.LOYALTY,
    ("GET", "/api/relationship/reports/complaints"): RelAction.REPORT,
    ("GET", "/api/relationship/reports/satisfaction"): RelAction.REPORT,
    ("POST", "/api/relationship/hardship-plans"): RelAction.HARDSHIP,
    ("GET", "/api/relationship/customers/{customer_id}/hardship-plans"): RelAction.VIEW,
    ("POST", "/api/relationship/hardship-plans/{plan_id}/decision"): RelAction.HARDSHIP_APPROVE,
    ("POST", "/api/relationship/hardship-plans/{plan_id}/end"): RelAction.HARDSHIP,
    ("POST", "/api/relationship/hardship-plans/{plan_id}/withdraw"): RelAction.HARDSHIP,
    ("GET", "/api/relationship/customers/{customer_id}/points"): RelAction.VIEW,
    ("POST", "/api/relationship/customers/{customer_id}/redeem"): RelAction.LOYALTY,
    ("POST", "/api/relationship/surveys/versions"): RelAction.SURVEY,
    ("POST", "/api/relationship/surveys/responses"): RelAction.SURVEY,
    ("POST", "/api/relationship/contact-plans"): RelAction.CONTACT,
    ("GET", "/api/relationship/contact-plans"): RelAction.VIEW,
    ("GET", "/api/relationship/planned-contacts"): RelAction.VIEW,
    ("POST", "/api/relationship/planned-contacts/{contact_id}/complete"): RelAction.CONTACT,
    ("GET", "/api/relationship/survey-invitations"): RelAction.VIEW,
    ("GET", "/api/relationship/reports/department-feedback"): RelAction.REPORT,
    ("POST", "/api/relationship/survey-followups/{followup_id}/close"): RelAction.SURVEY,
    ("GET", "/api/management/pack"): ManagementAction.PACK,
    ("GET", "/api/management/pack.xlsx"): ManagementAction.EXPORT,
    ("GET", "/api/management/drill"): ManagementAction.DRILL,
    ("GET", "/api/management/drill/area"): ManagementAction.DRILL,
    ("POST", "/api/management/whatif"): ManagementAction.WHATIF,
    ("GET", "/api/management/packs"): ManagementAction.EXPORT,
    ("GET", "/api/management/packs/{month}"): ManagementAction.EXPORT,
}


def _operations(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_every_route_is_in_the_table(app: FastAPI) -> None:
    assert _operations(app) == set(ROUTES)


def _visible(world: World, role: str, action: str) -> tuple[str, str]:
    """A customer (and one of its stored accounts) the user may `action`."""
    user = world.users[role]
    engine = engine_for(world.url)
    with engine.connect() as conn:
        row = conn.execute(
            select(customers.c.customer_id, account_status.c.account_id)
            .join(account_status, account_status.c.customer_id == customers.c.customer_id)
            .where(customer_scope_clause(user, action))
            .order_by(customers.c.customer_id)
            .limit(1)
        ).first()
    engine.dispose()
    return (row.customer_id, row.account_id) if row else ("CU-none", "ACC-none")


def _complaint_of(world: World, customer_id: str) -> int:
    """A complaint of the customer (a GET of one must find it), made once per customer."""
    if customer_id == "CU-none":
        return 1
    engine = engine_for(world.url)
    with engine.begin() as conn:
        found = conn.execute(
            select(table.c.complaint_id).where(table.c.customer_id == customer_id)
        ).first()
        cid = (
            found[0]
            if found
            else complaints.receive(
                conn,
                default_policy(),
                customer_id=customer_id,
                received_on=datetime(2026, 6, 1).date(),
                channel="phone",
                business_type="loans",
                reason="service",
                summary="matrix",
                complained_about=[],
                account_id=None,
                actor="admin",
                today=datetime(2026, 7, 1).date(),
                now=datetime(2026, 7, 1, tzinfo=UTC),
            )
        )
    engine.dispose()
    return int(cid)


def _tree_proposal(world: World) -> None:
    """A tree proposal (decided), for the route that shows one: the store's first, so its id
    is 1 on both backends (no explicit id: PostgreSQL's sequence stays right)."""
    from postloan.tiering.tables import tier_tree_proposals as p

    engine = engine_for(world.url)
    with engine.begin() as conn:
        if conn.execute(select(p.c.proposal_id)).first() is None:
            conn.execute(p.insert().values(
                fitted_from=date(2026, 1, 1), fitted_to=date(2026, 6, 30),
                samples=0, rules="[]", base_version="x", note="matrix", proposed_by="a",
                proposed_at=datetime.now(UTC), status="rejected"))  # fmt: skip
    engine.dispose()


_MODELS: dict[str, str] = {}


def _model_of(world: World) -> str:
    """A registered model (a GET of one must find it), registered once per store."""
    if world.url in _MODELS:
        return _MODELS[world.url]
    import numpy as np
    import pandas as pd

    from postloan.modelling import FitParams, fit_scorecard
    from postloan.risk import registry

    rng = np.random.default_rng(0)
    x = rng.integers(0, 60, 300)
    frame = pd.DataFrame({"x": x, "bad": (rng.uniform(0, 60, 300) < x).astype(int)})
    model = fit_scorecard(frame, "bad", params=FitParams(max_ratios=0))
    engine = engine_for(world.url)
    with engine.begin() as conn:
        done = registry.register(conn, model, "generic", "matrix", "matrix", "admin",
                                 datetime(2026, 7, 1, tzinfo=UTC))  # fmt: skip
    engine.dispose()
    _MODELS[world.url] = done.model_id
    return done.model_id


_PACKS: set[str] = set()


def _pack_month(world: World) -> str:
    """A stored monthly pack (a GET of one must find it), written once per store as the
    daily run's step stores them (any succeeded run: the row names it)."""
    if world.url not in _PACKS:
        from sqlalchemy import insert, select

        from postloan.management.tables import management_packs
        from postloan.store.schema import runs

        engine = engine_for(world.url)
        with engine.begin() as conn:
            run_id = conn.execute(select(runs.c.run_id).limit(1)).scalar_one()
            conn.execute(
                insert(management_packs).values(
                    month="2000-01", lang="zh-CN", as_of=date(2000, 1, 31), html="<p>pack</p>",
                    policy_version="x", definitions_version="y", run_id=run_id,
                    created_at=datetime(2026, 7, 1, tzinfo=UTC),
                )
            )  # fmt: skip
        engine.dispose()
        _PACKS.add(world.url)
    return "2000-01"


def _request(
    client: TestClient, world: World, role: str, method: str, path: str
) -> tuple[int, Any]:
    headers = world.headers(role)
    need = ROUTES[(method, path)]
    action = str(need) if need not in (PUBLIC, AUTHENTICATED) else Action.CUSTOMER_VIEW
    customer_id, account_id = _visible(world, role, action)
    url = path.format(
        customer_id=customer_id,
        account_id=account_id,
        kind="customers",
        run_id=1,
        task_id=1,
        alert_id=1,
        proposal_id=1,
        matter_id=1,
        disposal_id=1,
        agreement_id=1,
        measure_id=1,
        offer_id=1,
        handover_id=1,
        override_id=1,
        complaint_id=_complaint_of(world, customer_id) if method == "GET" else 1,
        plan_id=1,
        contact_id=1,
        followup_id=1,
        model_id=_model_of(world) if "{model_id}" in path and method == "GET" else "0" * 64,
        as_of="2000-01-01",  # never stored: nothing is deleted
        month=_pack_month(world) if "{month}" in path else "2000-01",
    )
    kwargs: dict[str, Any] = {}
    if path == "/api/tiering/tree/proposals/{proposal_id}":
        _tree_proposal(world)
    if path == "/api/auth/login":
        kwargs["json"] = {"username": role, "password": PASSWORD}
        headers = {}
    elif path == "/api/auth/logout":  # log out a token of its own, not the shared one
        engine = engine_for(world.url)
        with engine.begin() as conn:
            token = issue_token(conn, world.users[role].user_id, "api", datetime.now(UTC))
        engine.dispose()
        headers = {"Authorization": f"Bearer {token}"}
    elif path.endswith("/reveal"):
        kwargs["json"] = {"field": "phone", "reason": "permission matrix test"}
    elif path == "/api/customers/lookup":
        kwargs["json"] = {"identifier": "13800000000", "reason": "permission matrix test"}
    elif path == "/api/imports/{kind}":
        kwargs["files"] = {"file": ("customers.csv", b"customer_id,name\n", "text/csv")}
    elif path == "/api/runs" and method == "POST":
        kwargs["json"] = {}  # refused by validation after the permission check: no run starts
    elif method == "PUT":
        kwargs["json"] = {"no_such_parameter": 1}  # invalid: nothing is replaced
    response = client.request(method, url, headers=headers, **kwargs)
    if response.headers.get("content-type", "").startswith(("application/vnd.openxml",
                                                             "text/html")):  # fmt: skip
        return response.status_code, None  # a workbook or a printable pack (management's)
    return response.status_code, response.json()


ROLES = [*(r.value for r in Role)]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), sorted(ROUTES))
def test_matrix(client: TestClient, world: World, role: str, method: str, path: str) -> None:
    need = ROUTES[(method, path)]
    status, body = _request(client, world, role, method, path)
    assert status < 500, body
    allowed = need in (PUBLIC, AUTHENTICATED) or can(role, need)
    if allowed:
        assert status not in (401, 403), (role, method, path, body)
        if (
            method == "GET"
            or need in (PUBLIC, AUTHENTICATED)
            or path.endswith(("/reveal", "/lookup"))
        ):
            assert 200 <= status < 300, (role, method, path, body)
    else:
        assert status == 403, (role, method, path, body)
        assert body["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path"), sorted(k for k, v in ROUTES.items() if v != PUBLIC))
@pytest.mark.parametrize("auth", [None, "Bearer not-a-token", "Basic YWRtaW46eA=="])
def test_unauthenticated_is_401(
    client: TestClient, method: str, path: str, auth: str | None
) -> None:
    url = path.format(
        customer_id="CU00000001",
        account_id="L1",
        kind="customers",
        run_id=1,
        task_id=1,
        alert_id=1,
        proposal_id=1,
        matter_id=1,
        disposal_id=1,
        agreement_id=1,
        measure_id=1,
        offer_id=1,
        handover_id=1,
        override_id=1,
        complaint_id=1,
        plan_id=1,
        contact_id=1,
        followup_id=1,
        model_id="0" * 64,
        as_of="2000-01-01",  # never stored: nothing is deleted
        month="2000-01",
    )
    headers = {"Authorization": auth} if auth else {}
    response = client.request(method, url, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthenticated"
    assert response.headers["www-authenticate"] == "Bearer"


def test_login_sets_session_cookie_and_logout_revokes(world: World, tmp_path: Any) -> None:
    app = create_app(world.url, policy_path=tmp_path / "policy.toml")
    with TestClient(app) as client:
        response = client.post(
            "/api/auth/login", json={"username": "manager", "password": PASSWORD}
        )
        assert response.status_code == 200
        token = response.json()["token"]
        cookie = response.headers["set-cookie"]
        assert "postloan_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
        assert "Secure" not in cookie  # plain http in the test
        # the cookie alone authenticates (pages)
        assert client.get("/api/auth/me").json()["role"] == "manager"
        me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["username"] == "manager"
        assert (
            client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"}).json()[
                "revoked"
            ]
            == 2
        )
        client.cookies.clear()
        again = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert again.status_code == 401


def test_secure_cookie_over_https(world: World, tmp_path: Any) -> None:
    app = create_app(world.url, policy_path=tmp_path / "policy.toml")
    with TestClient(app, base_url="https://testserver") as client:
        response = client.post(
            "/api/auth/login", json={"username": "auditor", "password": PASSWORD}
        )
        assert "Secure" in response.headers["set-cookie"]


def test_wrong_password_is_401_and_locks(client: TestClient, world: World) -> None:
    for _ in range(4):
        r = client.post("/api/auth/login", json={"username": "collector2", "password": "wrong-pw"})
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "authentication_failed"
    r = client.post("/api/auth/login", json={"username": "collector2", "password": "wrong-pw"})
    assert r.status_code == 401
    refused = r.json()["error"]
    # locked now, but the answer does not say so (issue 10): the same code and message
    assert refused["code"] == "authentication_failed"
    r = client.post("/api/auth/login", json={"username": "collector2", "password": PASSWORD})
    assert r.status_code == 401 and r.json()["error"] == refused

"""Tiering's workbench and API over HTTP (TestClient), on SQLite and PostgreSQL: the tier page
per role (allowed, refused 403), its distribution and transitions against the stored rows in
the user's scope, the charts' options, a bad date shown not raised; the tier card on the 360°
page (figures withheld from roles without account access, none for roles without
`tiering.view`); the API card's scope (out of scope 404) and masking.

One store per backend: a synthetic portfolio run for five dates; a few tiered customers moved
to a branch of their own, where a credit officer and customer service work."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text, update

from postloan.access import create_user
from postloan.contract import write_contract_files
from postloan.policy import default_policy
from postloan.runs.service import run_dates
from postloan.store.db import engine_for, ready
from postloan.store.schema import customers
from postloan.synth import generate
from postloan.tiering.rules.need import SIGNALS as NEED_SIGNALS
from postloan.tiering.tables import tier_assignments
from postloan.web.i18n import translate
from tests.store.conftest import BACKENDS, PG_URL, _pg_schema_url, import_all
from tests.tiering.conftest import AS_OF, DATES
from tests.web.conftest import PASSWORD
from tests.web.test_pages import csrf_of

BRANCH, OTHER = "TIER1", "TIER2"
ROLES = {"risk": "risk_manager", "co": "credit_officer", "cs": "customer_service",
         "mkt": "marketing", "boss": "manager", "aud": "auditor", "coll": "collector",
         "sup": "collection_supervisor", "legal": "legal_officer"}  # fmt: skip
BRANCHES = {"co": BRANCH, "cs": BRANCH, "coll": BRANCH, "sup": BRANCH}


@dataclass(frozen=True)
class TierStore:
    url: str
    ours: list[str]
    outsider: str


def build_store(url: str, folder: Path) -> TierStore:
    write_contract_files(generate(accounts=300, seed=14, as_of=AS_OF), folder, fmt="csv")
    import_all(url, folder)
    run_dates(url, DATES, default_policy())
    engine = engine_for(url)
    with engine.begin() as conn:
        tiered = [r[0] for r in conn.execute(
            select(tier_assignments.c.customer_id).where(tier_assignments.c.as_of == AS_OF)
            .order_by(tier_assignments.c.customer_id))]  # fmt: skip
        ours, outsider = tiered[:4], tiered[-1]
        conn.execute(update(customers).where(customers.c.customer_id.in_(ours))
                     .values(branch_id=BRANCH))  # fmt: skip
        conn.execute(update(customers).where(customers.c.customer_id == outsider)
                     .values(branch_id=OTHER))  # fmt: skip
        for name, role in ROLES.items():
            create_user(conn, username=name, password=PASSWORD, role=role,
                        branch_id=BRANCHES.get(name), display_name=name)  # fmt: skip
    engine.dispose()
    return TierStore(url, ours, outsider)


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TierStore]:
    folder = tmp_path_factory.mktemp(f"tier-web-{request.param}")
    schema = None
    if request.param == "sqlite":
        url = ready(f"sqlite:///{folder / 'store.sqlite'}")
    else:
        schema = f"tierweb_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        url = ready(_pg_schema_url(schema))
    yield build_store(url, folder / "files")
    if schema:
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(scope="module")
def app(store: TierStore) -> FastAPI:
    from postloan.api.app import create_app
    from postloan.web import mount

    app = create_app(store.url)
    mount(app)
    return app


@pytest.fixture
def as_user(app: FastAPI) -> Iterator[Any]:
    clients: list[TestClient] = []

    def login(name: str) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        page = client.get("/login")
        done = client.post("/login", data={"username": name, "password": PASSWORD,
                                           "csrf_token": csrf_of(page.text)})  # fmt: skip
        assert done.status_code == 303, done.text
        return client

    yield login
    for client in clients:
        client.__exit__(None, None, None)


def _stored(store: TierStore, day: Any = AS_OF) -> list[Any]:
    engine = engine_for(store.url)
    with engine.connect() as conn:
        rows = list(conn.execute(
            select(tier_assignments, customers.c.branch_id.label("home"))
            .join(customers, customers.c.customer_id == tier_assignments.c.customer_id)
            .where(tier_assignments.c.as_of == day)).all())  # fmt: skip
    engine.dispose()
    return rows


def _counts(html: str) -> dict[str, int]:
    table = html.split('id="tier-distribution"')[1].split("</table>")[0]
    return {t: int(n) for t, n in re.findall(
        r'<tr data-tier="(\w+)"><td>[^<]*</td><td class="num">(\d+)</td>', table)}  # fmt: skip


def test_page_per_role_and_scope(as_user: Any, store: TierStore) -> None:
    stored = _stored(store)
    every = {t: sum(1 for r in stored if r.tier == t) for t in ("premium", "low", "medium",
                                                                 "high")}  # fmt: skip
    for name in ("risk", "boss", "mkt", "aud"):
        page = as_user(name).get("/tiering")
        assert page.status_code == 200, name
        assert _counts(page.text) == every, name
        assert ('id="tier-segments"' in page.text) and "chart-tier-distribution" in page.text
    mine = [r for r in stored if r.home == BRANCH]
    for name in ("co", "cs"):
        page = as_user(name).get("/tiering")
        assert sum(_counts(page.text).values()) == len(mine) == len(store.ours), name
    for name in ("coll", "sup", "legal"):
        assert as_user(name).get("/tiering").status_code == 403, name
    assert 'href="/tiering"' in as_user("boss").get("/tiering").text  # the nav link


def test_transitions_table_and_charts(as_user: Any, store: TierStore) -> None:
    page = as_user("risk").get("/tiering", params={"from": DATES[0].isoformat(),
                                                   "to": AS_OF.isoformat()})  # fmt: skip
    assert page.status_code == 200 and 'id="tier-transitions"' in page.text
    before = {r.customer_id: r.tier for r in _stored(store, DATES[0])}
    after = {r.customer_id: r.tier for r in _stored(store, AS_OF)}
    stay = sum(1 for c, t in after.items() if before.get(c) == t and t == "high")
    row = page.text.split('<tr data-from="high">')[1].split("</tr>")[0]
    assert re.search(rf'data-to="high">{stay}<', row)
    options = json.loads(page.text.split('id="chart-options">')[1].split("</script>")[0])
    assert set(options) == {"chart-tier-distribution", "chart-tier-transitions"}
    assert options["chart-tier-transitions"]["series"][0]["type"] == "heatmap"
    bad = as_user("risk").get("/tiering", params={"to": "2026-13-01"})
    assert bad.status_code == 422 and 'id="tiering-error"' in bad.text
    unknown = as_user("risk").get("/tiering", params={"to": "2026-01-05"})
    assert unknown.status_code == 422 and "no tiers stored" in unknown.text


def test_card_on_the_360_page(as_user: Any, store: TierStore) -> None:
    cid = store.ours[0]
    row = next(r for r in _stored(store) if r.customer_id == cid)
    page = as_user("cs").get(f"/customers/{cid}")
    assert page.status_code == 200
    card = page.text.split('id="tier-card"')[1].split("</section>")[0]
    assert f'data-tier="{row.tier}"' in page.text and 'id="tier-strategy"' in card
    assert 'id="tier-segment">' + row.rfm_segment in card
    mkt = as_user("mkt").get(f"/customers/{cid}").text
    assert 'id="tier-card"' in mkt
    mkt_card = mkt.split('id="tier-card"')[1].split("</section>")[0]
    labels = ("Balance", "余额", "Worst DPD", "最大逾期天数")  # figures: account data
    assert any(label in card for label in labels)
    assert not any(label in mkt_card for label in labels)
    legal = as_user("legal").get(f"/customers/{cid}")
    assert legal.status_code == 200 and 'id="tier-card"' not in legal.text


def test_card_shows_the_abc_class_and_the_need(as_user: Any, store: TierStore) -> None:
    stored = _stored(store)
    found = {r.need: r for r in stored}  # one customer per need level stored
    assert set(found) >= {"low", "medium"} and None not in found
    risk = as_user("risk")
    for lang in ("en", "zh-CN"):
        risk.cookies.set("postloan_lang", lang)
        for r in found.values():
            page = risk.get(f"/customers/{r.customer_id}").text
            card = page.split('id="tier-card"')[1].split("</section>")[0]
            assert f'id="tier-abc">{r.abc}<' in card
            need = card.split('id="tier-need"')[1].split("</dd>")[0]
            assert f'data-need="{r.need}"' in need
            assert translate(lang, f"tiering.need.{r.need}") in need
            signals = [s for s in r.need_signals.split(",") if s]
            for s in NEED_SIGNALS:
                assert (translate(lang, f"tiering.need_signal.{s}") in need) == (s in signals)
            assert (translate(lang, "tiering.need_no_signal") in need) == (not signals)
            api = risk.get(f"/api/tiering/customers/{r.customer_id}").json()["current"]
            assert (api["abc"], api["need"], api["need_signals"]) == (r.abc, r.need,
                                                                      r.need_signals)  # fmt: skip
            view = risk.get(f"/api/customers/{r.customer_id}").json()["tiering"]["current"]
            assert (view["need"], view["need_signals"]) == (r.need, r.need_signals)


def test_api_card_scope_and_masking(as_user: Any, store: TierStore) -> None:
    co = as_user("co")
    assert co.get(f"/api/tiering/customers/{store.outsider}").status_code == 404
    assert co.get("/api/tiering/customers/NOBODY").status_code == 404
    own = co.get(f"/api/tiering/customers/{store.ours[0]}")
    assert own.status_code == 200
    body = own.json()
    assert body["current"]["tier"] and body["current"]["balance"] is not None
    assert body["history"][0]["as_of"] == AS_OF.isoformat() and len(body["history"]) == len(DATES)
    assert body["strategy"]["monitoring"]
    mkt = as_user("mkt").get(f"/api/tiering/customers/{store.ours[0]}").json()
    assert mkt["current"]["balance"] is None and mkt["current"]["tier"] == body["current"]["tier"]
    dist = as_user("mkt").get("/api/tiering/distribution").json()
    assert all(t["balance"] is None for t in dist["tiers"])
    review = as_user("boss").get("/api/tiering/review").json()
    assert {r["month"] for r in review["rows"]} == {d.strftime("%Y-%m") for d in DATES}
    assert as_user("boss").get(f"/api/tiering/customers/{store.ours[0]}").status_code == 403
    rolls = as_user("risk").get("/api/tiering/rolls").json()
    assert {r["month"] for r in rolls["losses"]} == {d.strftime("%Y-%m") for d in DATES}
    assert rolls["rolls"] and all(r["balance"] is not None for r in rolls["losses"])
    assert as_user("co").get("/api/tiering/rolls").status_code == 403  # no tiering.review
    view = co.get(f"/api/customers/{store.ours[0]}").json()
    assert view["tiering"]["current"]["tier"] == body["current"]["tier"]
    legal = as_user("legal").get(f"/api/customers/{store.ours[0]}")
    assert legal.status_code == 200 and legal.json()["tiering"] is None  # no tiering.view
    boss = as_user("boss")
    too_long = boss.get("/api/tiering/review", params={"from": "2020-01-01", "to": "2026-06-30"})
    assert too_long.status_code == 422
    too_long = boss.get("/api/tiering/rolls", params={"from": "2020-01-01", "to": "2026-06-30"})
    assert too_long.status_code == 422
    backwards = {"from": AS_OF.isoformat(), "to": DATES[0].isoformat()}
    assert boss.get("/api/tiering/transitions", params=backwards).status_code == 422
    assert boss.get("/api/tiering/distribution", params={"as_of": "2026-01-05"}).status_code == 404


def test_tree_rules_from_the_history(as_user: Any, store: TierStore) -> None:
    found = as_user("risk").get("/api/tiering/tree", params={"to": AS_OF.isoformat()}).json()
    # every month-end but the last has a next month: March, April, May (its last date) cohorts
    months = {d.strftime("%Y-%m"): d for d in DATES}
    cohorts = sum(len(_stored(store, day)) for m, day in sorted(months.items())[:-1])
    assert found["samples"] == cohorts
    assert found["rules"] and sum(r["samples"] for r in found["rules"]) == cohorts
    assert all(r["rule"].startswith("if ") for r in found["rules"])
    assert 0.5 <= found["accuracy"] <= 1.0


# --- the review and tree pages (issue 14) -----------------------------------------------------


def test_review_page_per_role_and_against_the_api(as_user: Any, store: TierStore) -> None:
    for name in ("co", "cs", "mkt", "coll"):  # no tiering.review
        assert as_user(name).get("/tiering/review").status_code == 403
    risk = as_user("risk")
    page = risk.get("/tiering/review")
    assert page.status_code == 200
    api = risk.get("/api/tiering/review").json()["rows"]
    rolls = risk.get("/api/tiering/rolls").json()
    # every month and tier of the back-test is a row, with its NPL rate as the API gives it
    rows = re.findall(r'<tr data-month="([^"]+)" data-tier="([^"]+)">(.*?)</tr>',
                      page.text.split('id="review-rolls"')[0])  # fmt: skip
    assert [(m, t) for m, t, _ in rows] == [(r["month"], r["tier"]) for r in api]
    assert 'id="review-rolls"' in page.text and 'id="chart-tier-loss"' in page.text
    options = json.loads(re.search(r'<script type="application/json" id="chart-options">(.*?)'
                                   r"</script>", page.text, re.S).group(1))  # type: ignore[union-attr]  # fmt: skip
    npl = options["chart-tier-npl"]
    months = sorted({r["month"] for r in api})
    assert npl["xAxis"]["data"] == months
    for series, tier in zip(npl["series"], ("premium", "low", "medium", "high"), strict=True):
        want = {r["month"]: r["npl_rate"] for r in api if r["tier"] == tier}
        assert series["data"] == [None if want.get(m) is None else round(want[m] * 100, 2)
                                  for m in months]  # fmt: skip
    loss = {(r["month"], r["tier"]) for r in rolls["losses"]}
    assert loss == {(m, t) for m, t, _ in rows}
    # figures withheld from a role without account access; Chinese when asked
    boss = as_user("boss")
    assert boss.get("/tiering/review").status_code == 200
    boss.cookies.set("postloan_lang", "zh-CN")
    zh = boss.get("/tiering/review")
    assert "分层回测审查" in zh.text and "迁徙率" in zh.text
    bad = risk.get("/tiering/review", params={"to": "2026-13-01"})
    assert bad.status_code == 422 and 'id="review-error"' in bad.text


def test_tree_page_and_the_maker_checker_forms(
    store: TierStore, app: FastAPI, as_user: Any, tmp_path: Path
) -> None:
    from postloan.api.app import create_app
    from postloan.policy import load_policy
    from postloan.web import mount

    assert as_user("co").get("/tiering/tree").status_code == 403
    boss_page = as_user("boss").get("/tiering/tree")
    assert boss_page.status_code == 200 and 'id="tree-rules"' in boss_page.text
    assert 'id="tree-propose-form"' not in boss_page.text  # reads, never adopts
    engine = engine_for(store.url)
    with engine.begin() as conn:
        for name in ("risk_a", "risk_b"):
            create_user(conn, username=name, password=PASSWORD, role="risk_manager",
                        display_name=name)  # fmt: skip
    engine.dispose()
    policy_file = tmp_path / "policy.toml"
    adopting = create_app(store.url, policy_path=policy_file)
    mount(adopting)

    def login(name: str) -> TestClient:
        client = TestClient(adopting, follow_redirects=False)
        client.__enter__()
        page = client.get("/login")
        client.post("/login", data={"username": name, "password": PASSWORD,
                                    "csrf_token": csrf_of(page.text)})  # fmt: skip
        return client

    a, b = login("risk_a"), login("risk_b")
    try:
        page = a.get("/tiering/tree")
        rules = re.findall(r'<tr data-label="(npl|performing)">', page.text)
        api = a.get("/api/tiering/tree").json()
        assert rules == [r["label"] for r in api["rules"]] and rules
        form = re.search(r'<form method="post" action="/tiering/tree/proposals".*?</form>',
                         page.text, re.S).group(0)  # type: ignore[union-attr]  # fmt: skip
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
        fields["note"] = "the history separates NPL"
        done = a.post("/tiering/tree/proposals", data=fields)
        assert done.status_code == 303 and "done=proposed" in done.headers["location"]
        mine = a.get("/tiering/tree")
        pid = int(re.findall(r'<tr data-proposal="(\d+)" data-status="proposed">', mine.text)[0])
        assert f'/tiering/tree/proposals/{pid}/decision"' not in mine.text  # not one's own
        assert 'id="tree-whatif"' in mine.text
        theirs = b.get("/tiering/tree")
        assert f'/tiering/tree/proposals/{pid}/decision"' in theirs.text
        token = csrf_of(theirs.text)
        own = a.post(f"/tiering/tree/proposals/{pid}/decision",
                     data={"csrf_token": csrf_of(mine.text), "decision": "approve",
                           "note": "mine"})  # fmt: skip
        assert "done=refused" in own.headers["location"] and not policy_file.exists()
        ok = b.post(
            f"/tiering/tree/proposals/{pid}/decision",
            data={"csrf_token": token, "decision": "approve", "note": "what-if checked"},
        )
        assert "done=adopted" in ok.headers["location"]
        adopted = load_policy(policy_file)
        assert [r.label for r in adopted.tiering.tree.rules] == rules
        assert b.post("/tiering/tree/proposals/999999/decision",
                      data={"csrf_token": token, "decision": "reject",
                            "note": "x"}).status_code == 404  # fmt: skip
        shown = b.get("/tiering/tree?done=adopted")
        assert 'data-status="adopted"' in shown.text and 'id="tree-outcome"' in shown.text
    finally:
        a.__exit__(None, None, None)
        b.__exit__(None, None, None)


# --- the what-if form on the review page (issue 14) ---------------------------------------------

CANDIDATE = {"credit.poor_min_dpd": "1", "capacity.strong_max_dsr_percent": "10",
             "upgrade_after_dates": "2"}  # fmt: skip


def _cells(html: str, table_id: str) -> list[tuple[str, ...]]:
    """Each row of a table as (its data- attributes' values…, cell texts…)."""
    table = html.split(f'id="{table_id}"')[1].split("</table>")[0]
    return [tuple(re.findall(r'data-[\w-]+="([^"]*)"', head)) + tuple(
                re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", body))
            for head, body in re.findall(r"<tr ([^>]*)>(.*?)</tr>", table)]  # fmt: skip


def test_what_if_form_against_the_api(as_user: Any, store: TierStore) -> None:
    from postloan.tiering.candidate import FIELDS, candidate_of

    risk = as_user("risk")
    risk.cookies.set("postloan_lang", "en")
    window = {"from": DATES[0].isoformat(), "to": AS_OF.isoformat()}
    plain = risk.get("/tiering/review", params=window)
    assert 'id="whatif-form"' in plain.text and 'id="whatif-counts"' not in plain.text
    # the form shows the policy in force
    policy = default_policy()
    for name in FIELDS:
        section, _, key = name.rpartition(".")
        value = getattr(getattr(policy.tiering, section) if section else policy.tiering, key)
        assert f'name="{name}" min="0" max="100000" step="1" required value="{value}"' in plain.text
    page = risk.get("/tiering/review", params={**window, "whatif": "1", **CANDIDATE})
    assert page.status_code == 200, page.text
    candidate, _ = candidate_of(policy, CANDIDATE)
    api = risk.post("/api/tiering/whatif", headers={"X-CSRF-Token": csrf_of(page.text)}, json={
        **window, "tiering": candidate.model_dump(mode="json")["tiering"]}).json()  # fmt: skip
    # per tier on `to`: the stored and the candidate's customers, as the API's matrix sums them
    counts = {r[0]: (int(r[2]), int(r[3])) for r in _cells(page.text, "whatif-counts")}
    assert counts == {
        t: (sum(c["customers"] for c in api["transitions"] if c["stored"] == t),
            sum(c["customers"] for c in api["transitions"] if c["candidate"] == t))
        for t in ("premium", "low", "medium", "high")}  # fmt: skip
    assert counts != {t: (a, a) for t, (a, _) in counts.items()}  # the candidate moves some
    moved = [(r[0], int(r[2]), int(r[3])) for r in _cells(page.text, "whatif-moved")]
    assert moved == [(m["as_of"], m["customers"], m["moved"]) for m in api["moved"]]
    tiers = ("premium", "low", "medium", "high")
    matrix = {(r[0], t): int(n) for r in _cells(page.text, "whatif-transitions")
              for t, n in zip(tiers, r[2:], strict=True)}  # fmt: skip
    assert matrix == {(c["stored"], c["candidate"]): c["customers"] for c in api["transitions"]
                      if "none" not in (c["stored"], c["candidate"])}  # fmt: skip
    review = {(r[0], r[1]): (int(r[4]), int(r[5])) for r in _cells(page.text, "whatif-review")}
    want = {(r["month"], r["tier"]): [0, 0] for r in api["current"] + api["candidate"]}
    for side, rows in enumerate((api["current"], api["candidate"])):
        for r in rows:
            want[(r["month"], r["tier"])][side] = r["customers"]
    assert review == {k: tuple(v) for k, v in want.items()}
    assert "DPD" in page.text.split('id="whatif-changed"')[1].split("</p>")[0]


def test_what_if_form_refuses_bad_input_in_both_languages(as_user: Any, store: TierStore) -> None:
    risk = as_user("risk")
    risk.cookies.set("postloan_lang", "en")
    base = {"whatif": "1"}
    word = risk.get("/tiering/review", params={**base, "credit.poor_min_dpd": "ten"})
    assert word.status_code == 422
    error = word.text.split('id="whatif-error">')[1].split("</p>")[0]
    # one sentence: the label (its own colon) quoted, no second colon after it
    assert error == "“Poor credit: DPD from” must be a whole number from 0 to 100000"
    assert 'id="review-monthly"' in word.text  # the back-test is still shown
    for bad in ("-1", "1e3", "100001", "١٢"):  # negative, not plain digits, too large, non-ASCII
        got = risk.get("/tiering/review", params={**base, "credit.poor_min_dpd": bad})
        assert got.status_code == 422 and 'id="whatif-error"' in got.text, bad
    # refused by the policy's own checks: poor from 0 times late is not above good's at most 0
    refused = risk.get("/tiering/review", params={**base, "credit.poor_min_times_late": "0"})
    assert refused.status_code == 422
    said = refused.text.split('id="whatif-error">')[1].split("</p>")[0]
    assert said.startswith("“Poor credit: times late from” is refused by the policy checks (")
    assert "poor_min_times_late" in said and "from”:" not in said
    risk.cookies.set("postloan_lang", "zh-CN")
    zh = risk.get("/tiering/review", params={**base, "upgrade_after_dates": "x"})
    assert "“升级所需连续日期数”须为 0 至 100000 之间的整数" in zh.text
    zh = risk.get("/tiering/review", params={**base, "credit.poor_min_dpd": "x"})
    said = zh.text.split('id="whatif-error">')[1].split("</p>")[0]
    assert said == "“信用较差:逾期天数达到”须为 0 至 100000 之间的整数"
    assert said.count(":") + said.count("：") == 1  # the label's own
    zh = risk.get("/tiering/review", params={**base, "credit.poor_min_times_late": "0"})
    said = zh.text.split('id="whatif-error">')[1].split("</p>")[0]
    assert said.startswith("“信用较差:累计逾期期数达到”未通过政策校验(tiering.credit.")
    assert "试算:候选分层标准" in zh.text
    # the what-if reads as the API: refused to roles without tiering.review
    assert as_user("mkt").get("/tiering/review", params=base).status_code == 403


# --- the review page's workbook (GET /api/tiering/review.xlsx) --------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _fields(book: Any, name: str) -> list[str]:
    """A sheet's columns as API field names, from the `columns` sheet — whose names must be
    the sheet's header row, in order."""
    legend = [r for r in book["columns"].iter_rows(min_row=2, values_only=True) if r[0] == name]
    assert [c.value for c in book[name][1]] == [r[1] for r in legend], name
    return [r[2] for r in legend]


def _sheet(book: Any, name: str) -> list[dict[str, Any]]:
    rows = list(book[name].iter_rows(values_only=True))
    return [dict(zip(_fields(book, name), r, strict=True)) for r in rows[1:]]


def _as_api(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A sheet's rows in the API's units: amounts (yuan) back to minor units."""
    from postloan.tiering.card import AMOUNTS

    return [{k: (None if v is None else round(v * 100)) if k in AMOUNTS else v
             for k, v in r.items()} for r in rows]  # fmt: skip


def _same(sheet: list[dict[str, Any]], api: list[dict[str, Any]]) -> None:
    """Every cell of the sheet equals the API's field of that name, row by row (rates to the
    15 significant digits a spreadsheet keeps)."""
    assert len(sheet) == len(api) > 0
    for got, want in zip(_as_api(sheet), api, strict=True):
        close = {k: (pytest.approx(want[k], rel=1e-13) if isinstance(want[k], float)
                     else want[k]) for k in got}  # fmt: skip
        assert got == close, (got, want)


def _download(client: TestClient, page: Any) -> Any:
    from io import BytesIO

    from openpyxl import load_workbook

    href = page.text.split('id="review-export" href="')[1].split('"')[0].replace("&amp;", "&")
    assert href.startswith("/api/tiering/review.xlsx?")
    got = client.get(href)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == XLSX
    assert got.headers["content-disposition"].startswith('attachment; filename="tiering-review-')
    return href, load_workbook(BytesIO(got.content))


def test_review_workbook_holds_the_api_figures(as_user: Any, store: TierStore) -> None:
    from postloan.access.tables import audit_log
    from postloan.tiering.candidate import candidate_of

    risk = as_user("risk")
    window = {"from": DATES[0].isoformat(), "to": AS_OF.isoformat()}
    page = risk.get("/tiering/review", params=window)
    href, book = _download(risk, page)
    assert "whatif" not in href and book.sheetnames == ["review", "backtest", "rolls", "losses",
                                                         "columns"]  # fmt: skip
    # the header row in the page's language (Chinese here), the API's names in `columns`
    assert [c.value for c in book["losses"][1]][:4] == ["月份", "日期", "层级", "客户数"]
    english = risk.get(href.replace("lang=zh-CN", "lang=en"))
    from io import BytesIO

    from openpyxl import load_workbook

    assert "lang=zh-CN" in href and english.status_code == 200
    english_book = load_workbook(BytesIO(english.content))
    assert [c.value for c in english_book["losses"][1]][:4] == ["Month", "As of", "Tier",
                                                                "Customers"]  # fmt: skip
    assert _sheet(english_book, "losses") == _sheet(book, "losses")
    review = risk.get("/api/tiering/review", params=window).json()["rows"]
    rolls = risk.get("/api/tiering/rolls", params=window).json()
    _same(_sheet(book, "backtest"), review)
    _same(_sheet(book, "rolls"), rolls["rolls"])
    _same(_sheet(book, "losses"), rolls["losses"])
    about = {r[0]: r[1] for r in book["review"].iter_rows(values_only=True) if r[0]}
    assert (about["from"], about["to"]) == (window["from"], window["to"])
    assert about["policy_version"] == default_policy().version
    # the project's style: bold header, frozen header row and key columns, number formats
    sheet = book["losses"]
    head = _fields(book, "losses")
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "D2"  # month, as_of, tier
    assert sheet.cell(row=2, column=head.index("loss_rate") + 1).number_format == "0.00%"
    assert sheet.cell(row=2, column=head.index("balance") + 1).number_format == "#,##0.00"
    assert sheet.cell(row=2, column=head.index("customers") + 1).number_format == "#,##0"
    assert book["rolls"].freeze_panes == "E2"  # month, as_of, tier, bucket
    # with the what-if the page shows: its four tables, as POST /api/tiering/whatif answers
    shown = risk.get("/tiering/review", params={**window, "whatif": "1", **CANDIDATE})
    href, book = _download(risk, shown)
    assert "whatif=true" in href
    assert book.sheetnames[4:] == ["whatif_moved", "whatif_matrix", "whatif_in_force",
                                   "whatif_candidate", "columns"]  # fmt: skip
    candidate, _ = candidate_of(default_policy(), CANDIDATE)
    api = risk.post("/api/tiering/whatif", headers={"X-CSRF-Token": csrf_of(shown.text)}, json={
        **window, "tiering": candidate.model_dump(mode="json")["tiering"]}).json()  # fmt: skip
    _same(_sheet(book, "whatif_moved"), api["moved"])
    _same(_sheet(book, "whatif_in_force"), api["current"])
    _same(_sheet(book, "whatif_candidate"), api["candidate"])
    matrix = [(r["stored"], r["candidate_tier"], r["customers"])
              for r in _sheet(book, "whatif_matrix")]  # fmt: skip
    assert matrix == [(c["stored"], c["candidate"], c["customers"]) for c in api["transitions"]]
    cuts = {r[0]: (r[1], r[2]) for r in book["review"].iter_rows(values_only=True)
            if r[0] and str(r[0]).startswith("tiering.")}  # fmt: skip
    policy = default_policy().tiering
    assert cuts == {"tiering.credit.poor_min_dpd": (policy.credit.poor_min_dpd, 1),
                    "tiering.capacity.strong_max_dsr_percent":
                        (policy.capacity.strong_max_dsr_percent, 10),
                    "tiering.upgrade_after_dates": (policy.upgrade_after_dates, 2)}  # fmt: skip
    assert {r[0]: r[1] for r in book["review"].iter_rows(values_only=True) if r[0]}[
        "candidate_version"] == api["version"] == candidate.version  # fmt: skip
    # a refused cut-off answers 422 naming it, as the page's form does
    bad = risk.get("/api/tiering/review.xlsx", params={**window, "whatif": "true",
                                                       "credit.poor_min_dpd": "ten"})  # fmt: skip
    assert bad.status_code == 422 and "poor_min_dpd" in bad.text
    # audited; same permission as the page
    engine = engine_for(store.url)
    with engine.connect() as conn:
        found = conn.execute(select(audit_log.c.actor, audit_log.c.detail)
                             .where(audit_log.c.target_type == "tiering_review")).all()  # fmt: skip
    engine.dispose()
    assert [r.actor for r in found][-2:] == ["risk", "risk"]
    for name in ("co", "cs", "mkt", "coll"):
        assert as_user(name).get("/api/tiering/review.xlsx").status_code == 403, name


def test_review_workbook_leaves_amounts_out_without_account_access(
    as_user: Any, store: TierStore
) -> None:
    from postloan.access import Action, can
    from postloan.tiering.actions import TieringAction
    from postloan.tiering.card import AMOUNTS

    aud = as_user("aud")  # tiering.review, no account.view
    assert not can(ROLES["aud"], Action.ACCOUNT_VIEW) and can(ROLES["aud"], TieringAction.REVIEW)
    page = aud.get("/tiering/review")
    _, book = _download(aud, page)
    for name in ("backtest", "rolls", "losses"):
        head = _fields(book, name)
        assert head and not set(head) & set(AMOUNTS), (name, head)
    review = aud.get("/api/tiering/review").json()["rows"]
    _same(_sheet(book, "backtest"), review)
    about = {r[0]: r[1] for r in book["review"].iter_rows(values_only=True) if r[0]}
    assert about["amounts"].startswith("withheld")

"""A small store of known customers for the masking tests (search, extra attributes, reveal):
customers imported from a file with columns beyond the contract, one user per role, the API
and the workbench over it, with a policy file the test may change. SQLite always, PostgreSQL
when POSTLOAN_TEST_DATABASE_URL is set."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text

from postloan.access import passwords
from postloan.access.roles import Role
from postloan.access.tables import assignments, audit_log
from postloan.access.tokens import issue_token
from postloan.access.users import User, create_user
from postloan.api.app import create_app
from postloan.ids import prc_id_check_digit
from postloan.imports.service import import_file
from postloan.store.db import engine_for
from postloan.store.schema import customers
from tests.api.conftest import _fresh_url
from tests.store.conftest import BACKENDS, PG_URL

PASSWORD = "Lantern-river-quartz-7"
NOW = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
BRANCH_ROLES = {Role.CREDIT_OFFICER, Role.CUSTOMER_SERVICE, Role.COLLECTION_SUPERVISOR}


def prc_id(first17: str) -> str:
    return first17 + prc_id_check_digit(first17)


# The customer every role can see (BR01, assigned to the collector), and the personal values
# an attacker would like to recover.
TARGET = "CU007"
TARGET_NAME = "欧阳明轩"
TARGET_PHONE = "13912345678"
TARGET_BIRTH = "19900307"
TARGET_ID = prc_id("110101" + TARGET_BIRTH + "123")
EMERGENCY_PHONE = "13698765432"
EMERGENCY_CONTACT = "欧阳秀英"
PARTNER_ID = prc_id("310104198512120" + "02")
SEGMENT = "retail-gold"
GUARANTOR_PHONE = "18611112222"  # an extra column of the target's loan
OUT_OF_BRANCH = "CU008"  # BR02: outside the branch roles' scope

EXTRA_COLUMNS = ("emergency_phone", "emergency_contact", "partner_id", "segment")


def customer_rows() -> list[dict[str, str]]:
    rows = []
    for i in range(1, 13):
        cid = f"CU{i:03d}"
        rows.append(
            {
                "customer_id": cid,
                "name": f"客户{i:02d}",
                "id_number": prc_id(f"320102197{i % 10}0101{i:03d}"),
                "phone": f"1581{i:03d}{(i * 7919) % 10000:04d}",
                "branch_id": "BR01" if i % 2 else "BR02",
                "emergency_phone": f"1350000{i:04d}",
                "emergency_contact": f"联系人{i:02d}",
                "partner_id": "",
                "segment": "retail",
            }
        )
    target = rows[6]
    assert target["customer_id"] == TARGET
    target.update(
        name=TARGET_NAME,
        id_number=TARGET_ID,
        phone=TARGET_PHONE,
        emergency_phone=EMERGENCY_PHONE,
        emergency_contact=EMERGENCY_CONTACT,
        partner_id=PARTNER_ID,
        segment=SEGMENT,
    )
    return rows


PERSONAL_VALUES = (
    TARGET_PHONE, TARGET_ID, EMERGENCY_PHONE, EMERGENCY_CONTACT, PARTNER_ID, GUARANTOR_PHONE
)  # fmt: skip


def default_policy_text() -> str:
    return resources.files("postloan.policy").joinpath("default_policy.toml").read_text("utf-8")


def policy_text(*, non_personal: str = "{}", min_reason_chars: int = 8) -> str:
    """The packaged policy with the [security] settings the tests vary."""
    text = default_policy_text()
    text = text.replace(
        "non_personal_extra_columns = {}", f"non_personal_extra_columns = {non_personal}"
    )
    return re.sub(r"(?m)^min_reason_chars = \d+", f"min_reason_chars = {min_reason_chars}", text)


@dataclass
class People:
    url: str
    folder: Path
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def client(self, policy: str | None = None, *, web: bool = False) -> TestClient:
        """A client of a fresh app over the store, with `policy` (TOML text) in force."""
        path = self.folder / f"policy-{len(list(self.folder.glob('policy-*')))}.toml"
        if policy is not None:
            path.write_text(policy, encoding="utf-8")
        app = create_app(self.url, policy_path=path)
        if web:
            from postloan.web import mount

            mount(app)
        return TestClient(app, raise_server_exceptions=False)

    def audit(self) -> list[Any]:
        engine = engine_for(self.url)
        with engine.connect() as conn:
            rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
        engine.dispose()
        return list(rows)

    def reveals(self) -> list[Any]:
        """The audit log's reveal entries, oldest first."""
        return [entry for entry in self.audit() if entry.action == "customer.reveal"]

    def stored(self, customer_id: str, column: str) -> Any:
        engine = engine_for(self.url)
        with engine.connect() as conn:
            value = conn.execute(
                select(customers.c[column]).where(customers.c.customer_id == customer_id)
            ).scalar_one()
        engine.dispose()
        return value


def build(url: str, folder: Path) -> People:
    folder.mkdir(parents=True, exist_ok=True)
    rows = customer_rows()
    path = folder / "customers.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = import_file("customers", path, url)
    assert result.rejected == 0 and result.accepted == len(rows)
    loans = folder / "loans.csv"  # a loan of the target with a personal extra column
    loans.write_text(
        "loan_id,customer_id,principal,annual_rate,term_months,repayment_method,"
        f"disbursement_date,guarantor_phone\nL-T1,{TARGET},120000.00,0.0455,12,"
        f"equal_installment,2026-01-15,{GUARANTOR_PHONE}\n",
        encoding="utf-8",
    )
    assert import_file("loans", loans, url).accepted == 1
    people = People(url=url, folder=folder)
    engine = engine_for(url)
    # Cheap Argon2 parameters for the fixture's users (verification reads them from the hash).
    cheap = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
    with pytest.MonkeyPatch.context() as patch, engine.begin() as conn:
        patch.setattr(passwords, "HASHER", cheap)
        for role in Role:
            people.users[role.value] = create_user(
                conn, username=role.value, password=PASSWORD, role=role,
                branch_id="BR01" if role in BRANCH_ROLES else None, now=NOW,
            )  # fmt: skip
        collector = people.users[Role.COLLECTOR.value]
        for customer_id in (TARGET, "CU001", "CU003"):
            conn.execute(
                assignments.insert().values(
                    user_id=collector.user_id, customer_id=customer_id, assigned_at=NOW
                )
            )
        for who, user in people.users.items():
            people.tokens[who] = issue_token(conn, user.user_id, "api", datetime.now(UTC))
    engine.dispose()
    return people


@pytest.fixture(scope="module", params=BACKENDS)
def people(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[People]:
    """One store per backend and test module: tests only read it, and those that reveal
    compare the audit log before and after."""
    folder = tmp_path_factory.mktemp(f"masking-{request.param}")
    url, schema = _fresh_url(request.param, folder)
    yield build(url, folder / "files")
    if schema:
        admin = create_engine(PG_URL)  # type: ignore[arg-type]
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def client(people: People) -> Iterator[TestClient]:
    with people.client() as c:
        yield c


CSRF_RE = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def web_login(client: TestClient, username: str) -> str:
    """Sign in through the login form; returns a page's CSRF token for later forms."""
    page = client.get("/login")
    token = CSRF_RE.search(page.text)
    assert token
    done = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token[1]},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    home = client.get("/customers")
    mine = CSRF_RE.search(home.text)
    assert mine, "no CSRF token on the customers page"
    return mine[1]

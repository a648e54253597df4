"""The search behind the API and the workbench (`views.customer_search`) matches only what the
caller's mask shows (issue 10, defect 3), on a real store (SQLite; PostgreSQL when set)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select

from postloan.access.errors import PermissionDenied, ReasonRequired
from postloan.access.masking import mask_id_number, mask_mobile, visible_ends
from postloan.access.roles import Role
from postloan.access.tables import audit_log
from postloan.access.users import User
from postloan.store.schema import customers
from postloan.views.customer_search import (
    FullIdentifierQuery,
    SearchPage,
    identifier_kind,
    lookup,
    search,
)
from tests.access.conftest import NOW

# C1 (BR01): phone 13812345678, ID 11010119900307123X; C2 (BR02): 13987654321,
# 310104198512120021; C3 (BR01, the collector's): 15011112222, 320102197001010011.


@pytest.mark.parametrize("role", list(Role))
def test_visible_ends_are_the_masks_ends(role: Role) -> None:
    phone, id_number = "13812345678", "11010119900307123X"
    head, tail = visible_ends("phone", role) or (0, 0)
    assert mask_mobile(phone) == phone[:head] + "*" * (11 - head - tail) + phone[-tail:]
    head, tail = visible_ends("id_number", role) or (0, 0)
    masked = mask_id_number(id_number, role)
    assert masked == id_number[:head] + "*" * (18 - head - tail) + id_number[-tail:]
    assert visible_ends("address", role) is None  # its kept prefix depends on the value
    assert visible_ends("name", role) is None


def _ids(page: SearchPage) -> list[str]:
    return [item["customer_id"] for item in page.items]


def test_only_the_visible_tail_is_searched(engine: Engine, people: dict[str, User]) -> None:
    with engine.connect() as conn:
        for who in ("mkt", "aud", "legal"):
            user = people[who]
            assert _ids(search(conn, user, "5678")) == ["C1"]
            assert _ids(search(conn, user, "678")) == ["C1"]
            assert _ids(search(conn, user, "45678")) == []  # a hidden digit
            assert _ids(search(conn, user, "123x")) == ["C1"]  # ID's last 4, any case
            assert _ids(search(conn, user, "7123X")) == []
            assert _ids(search(conn, user, "1381")) == []  # no prefix matching either
            assert _ids(search(conn, user, "19900307")) == []  # the birth date is hidden
        collector = people["col"]  # sees C3 only, and 2 last ID digits
        assert _ids(search(conn, collector, "11")) == ["C3"]
        assert _ids(search(conn, collector, "011")) == []
        assert _ids(search(conn, collector, "2222")) == ["C3"]
        page = search(conn, people["mkt"], "", limit=2)
        assert _ids(page) == ["C1", "C2"] and page.total == 3
        assert page.items[0]["phone"] == "138****5678"


def test_values_too_short_to_show_a_tail_are_not_searched(
    engine: Engine, people: dict[str, User]
) -> None:
    with engine.begin() as conn:
        conn.execute(
            customers.insert().values(
                customer_id="C4", name="赵六", phone="1234567", id_number="1234", branch_id="BR01"
            )
        )
        page = search(conn, people["mkt"], "4567")
        assert _ids(page) == []  # shown as ******* : no visible digit
        assert _ids(search(conn, people["mkt"], "赵")) == ["C4"]
        assert search(conn, people["mkt"], "赵").items[0]["phone"] == "*******"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("13812345678", "phone"),
        ("138 1234 5678", "phone"),
        ("138-1234-5678", "phone"),
        ("+8613812345678", "phone"),
        ("11010119900307123X", "id_number"),
        ("11010119900307123x", "id_number"),
        ("110101900307123", "id_number"),
        ("1381234567", None),
        ("5678", None),
        ("C1", None),
        ("张三", None),
    ],
)
def test_identifier_kind(text: str, kind: str | None) -> None:
    assert identifier_kind(text) == kind


def test_a_whole_identifier_is_refused(engine: Engine, people: dict[str, User]) -> None:
    with engine.connect() as conn:
        for text in ("13812345678", "11010119900307123x"):
            with pytest.raises(FullIdentifierQuery) as refused:
                search(conn, people["legal"], text)
            assert str(refused.value).startswith("q: ")


def _audit(engine: Engine) -> list[tuple[str, str | None, dict[str, object]]]:
    with engine.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
    return [(r.actor, r.target_id, json.loads(r.detail)) for r in rows]


def test_lookup_is_a_reveal(engine: Engine, people: dict[str, User]) -> None:
    with engine.begin() as conn:
        found = lookup(conn, people["sup"], "138 1234 5678", "客户来电核实身份", NOW)
        assert _ids(found) == ["C1"] and found.items[0]["phone"] == "138****5678"
        outside = lookup(conn, people["sup"], "13987654321", "客户来电核实身份", NOW)
        assert _ids(outside) == []  # C2 is in BR02: outside the supervisor's reveal scope
        by_id = lookup(conn, people["legal"], "11010119900307123x", "court filing 2026", NOW)
        assert _ids(by_id) == ["C1"]
    assert _audit(engine) == [
        ("sup", "C1", {"field": "phone", "reason": "客户来电核实身份",
                       "lookup": "138****5678", "matches": ["C1"]}),
        ("sup", None, {"field": "phone", "reason": "客户来电核实身份",
                       "lookup": "139****4321", "matches": []}),
        ("legal", "C1", {"field": "id_number", "reason": "court filing 2026",
                         "lookup": "110101********123X", "matches": ["C1"]}),
    ]  # fmt: skip
    for who in ("col", "cs", "mkt", "aud"):
        with pytest.raises(PermissionDenied), engine.begin() as conn:
            lookup(conn, people[who], "13812345678", "客户来电核实身份", NOW)
    with pytest.raises(ReasonRequired), engine.begin() as conn:
        lookup(conn, people["legal"], "13812345678", "aaaaaaaa", NOW)
    with pytest.raises(ValueError, match="identifier"), engine.begin() as conn:
        lookup(conn, people["legal"], "1381234", "court filing 2026", NOW)
    assert len(_audit(engine)) == 3

"""Issue 10 hardening: new passwords are long enough and not common, nor the username or the
product's name dressed up; usernames have a length and a character set; `user create` wants
a known branch for roles whose data scope depends on one."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from postloan.access.demo import demo_password
from postloan.access.errors import InvalidBranch, InvalidUsername, WeakPassword
from postloan.access.passwords import check_strength, common_passwords, weakness
from postloan.access.roles import Role
from postloan.access.users import check_branch, create_user, needs_branch, reset_password
from postloan.cli.main import app
from postloan.store.schema import customers
from tests.access.conftest import CUSTOMERS, NOW

runner = CliRunner()


@pytest.mark.parametrize(
    ("password", "username"),
    [
        ("short-1", None),  # too short
        ("aaaaaaaaaaaa", None),  # too few different characters
        ("1234567890", None),  # on the list as it is
        ("qwertyuiop", None),
        ("Password2026!", None),  # a common word with digits and symbols after it
        ("P@ssw0rd-2026", None),  # … with look-alike characters
        ("@dmin123456", None),
        ("admin@2026", None),
        ("woaini1314520", None),  # pinyin "I love you" + 1314 (“a lifetime”)
        ("1qaz2wsx3edc", None),  # a keyboard walk
        ("zhangwei1990", None),  # a common name in pinyin + a year
        ("aa1234567890", None),  # little more than a run of digits
        ("wangfang2026", "wangfang"),  # the username with digits
        ("Wang.Li@2026", "wang.li"),
        ("il.gnaw2026", "wang.li"),  # … reversed
        ("collector2026", "collector2"),
        ("Postloan2026!", None),  # the product's name
        ("post-loan-2026", None),
    ],
)
def test_weak_passwords_are_refused(password: str, username: str | None) -> None:
    assert weakness(password, username) is not None
    with pytest.raises(WeakPassword):
        check_strength(password, username)


@pytest.mark.parametrize(
    ("password", "username"),
    [
        ("correct horse battery", "amy"),  # the suite's own
        ("a long password", "c1"),
        ("pw-cs-long", "cs"),
        ("tea-at-noon-8", "wang"),
        ("Xk9#mQ2$vLr", None),
        ("demo-collector-2026", "collector"),  # the username inside other words is fine
        ("长城饭店三楼左转第二间", None),  # any script counts
    ],
)
def test_good_passwords_pass(password: str, username: str | None) -> None:
    assert weakness(password, username) is None


def test_the_deny_list_ships_with_the_package() -> None:
    listed = common_passwords()
    assert len(listed) >= 300
    assert {"123456", "password", "qwerty", "5201314", "woaini"} <= listed
    assert all(entry == entry.lower() and entry.strip() == entry for entry in listed)


def test_demo_passwords_are_strong_enough() -> None:
    for role in Role:
        assert weakness(demo_password(role), role.value) is None, role


def test_create_and_reset_check_the_password_against_the_username(engine: Engine) -> None:
    with pytest.raises(WeakPassword, match="username"), engine.begin() as conn:
        create_user(conn, username="liwen", password="liwen-2026!", role="auditor", now=NOW)
    with engine.begin() as conn:
        create_user(conn, username="liwen", password="river stone lamp", role="auditor")
    with pytest.raises(WeakPassword, match="common"), engine.begin() as conn:
        reset_password(conn, "liwen", "iloveyou2026")


@pytest.mark.parametrize(
    "username",
    ["a", "x" * 65, "Amy", "amy smith", "amy/../x", "-amy", ".amy", "王芳", "amy\x00", "amy@bank"],
)
def test_bad_usernames_are_refused(engine: Engine, username: str) -> None:
    with pytest.raises(InvalidUsername), engine.begin() as conn:
        create_user(conn, username=username, password="river stone lamp", role="auditor")


@pytest.mark.parametrize("username", ["c1", "collector-br07-2", "wang.li", "user_9", "x" * 64])
def test_good_usernames_pass(engine: Engine, username: str) -> None:
    with engine.begin() as conn:
        assert (
            create_user(
                conn, username=username, password="river stone lamp", role="auditor"
            ).username
            == username
        )


def test_roles_that_need_a_branch() -> None:
    needing = {role for role in Role if needs_branch(role)}
    assert needing == {
        Role.COLLECTOR,
        Role.COLLECTION_SUPERVISOR,
        Role.CREDIT_OFFICER,
        Role.CUSTOMER_SERVICE,
    }


def test_check_branch(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(customers.insert(), CUSTOMERS)  # branches BR01, BR02
        check_branch(conn, Role.COLLECTOR, "BR01")
        check_branch(conn, Role.AUDITOR, None)  # head office: no branch needed
        with pytest.raises(InvalidBranch, match="needs a branch"):
            check_branch(conn, Role.CREDIT_OFFICER, None)
        with pytest.raises(InvalidBranch, match="unknown"):
            check_branch(conn, Role.COLLECTOR, "BR1")  # a typo
        check_branch(conn, Role.COLLECTOR, "BR09", new_branch=True)


@pytest.fixture
def cli_env(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("POSTLOAN_DATABASE_URL", store_url)
    monkeypatch.delenv("POSTLOAN_USER", raising=False)
    monkeypatch.delenv("POSTLOAN_CLI_REQUIRE_LOGIN", raising=False)
    return store_url


def _create(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["user", "create", *args])
    return result.exit_code, result.output


def test_user_create_refuses_with_a_reason(cli_env: str, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(customers.insert(), CUSTOMERS)
    ok = ["--password", "river stone lamp"]
    cases = {
        "needs a branch": ["--username", "zhao", "--role", "collector", *ok],
        "unknown": ["--username", "zhao", "--role", "collector", "--branch", "BR7", *ok],
        "a username has lower-case": ["--username", "Zhao", "--role", "auditor", *ok],
        "most common": ["--username", "zhao", "--role", "auditor", "--password", "qwerty2026!"],
        "the username": ["--username", "zhao", "--role", "auditor", "--password", "zhao123456"],
    }
    for reason, args in cases.items():
        code, output = _create(*args)
        assert code == 1 and reason in output, (reason, output)
    code, output = _create("--username", "zhao", "--role", "collector", "--branch", "BR01", *ok)
    assert code == 0, output
    new = ["--username", "qian", "--role", "collector", "--branch", "BR09", "--new-branch", *ok]
    code, output = _create(*new)
    assert code == 0, output

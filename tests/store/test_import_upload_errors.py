"""Uploads through the API: encodings, broken files and a failing import worker all answer with
a clean error naming the problem — never a 500, a server path or a traceback (issue 10)."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from postloan.access.tokens import issue_token
from postloan.access.users import create_user
from postloan.api.app import create_app
from postloan.imports.service import import_file
from postloan.store.db import engine_for
from postloan.store.schema import customers

TEXT = "customer_id,name,address\nCU1,张三,北京市朝阳区建国路1号\nCU2,李四,上海市浦东新区\n"
INTERNALS = ("Traceback", "polars", "adbc", "Polars", "pyarrow", "sqlite3", "psycopg")


@pytest.fixture
def upload(store_url: str, tmp_path: Path) -> Any:
    """An admin's upload function against a fresh store: (kind, name, bytes, form) -> response."""
    engine = engine_for(store_url)
    with engine.begin() as conn:
        admin = create_user(conn, username="admin", password="S3cure-Passphrase!", role="admin")
        token = issue_token(conn, admin.user_id, "api", datetime.now(UTC))
    engine.dispose()
    app = create_app(store_url, policy_path=tmp_path / "policy.toml")
    with TestClient(app) as client:

        def send(kind: str, name: str, data: bytes, form: dict[str, str] | None = None) -> Any:
            return client.post(
                f"/api/imports/{kind}",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": (name, data, "text/csv")},
                data=form or {},
            )

        send.app = app  # type: ignore[attr-defined]
        yield send


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    message = error["message"]
    assert tempfile.gettempdir() not in message and "/" not in message, message
    assert not any(word in message for word in INTERNALS), message
    return error


def _stored(url: str) -> int:
    engine = engine_for(url)
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(customers))
    engine.dispose()
    return int(count or 0)


def test_gb18030_upload_is_refused_then_read_with_the_encoding_field(
    upload: Any, store_url: str
) -> None:
    data = TEXT.encode("gb18030")
    error = _error(upload("customers", "客户.csv", data), 400, "wrong_encoding")
    assert error["field"] == "encoding"
    assert error["message"] == (
        "客户.csv is GB18030 (GBK), not UTF-8: convert it to UTF-8 or send encoding=gb18030"
        " with the file"
    )
    assert _stored(store_url) == 0
    ok = upload("customers", "客户.csv", data, {"encoding": "gb18030"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["accepted"] == 2
    bad = upload("customers", "客户.csv", data, {"encoding": "latin-1"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "encoding"


def test_utf16_and_broken_csv_uploads_name_the_problem(upload: Any) -> None:
    utf16 = _error(upload("customers", "x.csv", TEXT.encode("utf-16")), 400, "wrong_encoding")
    assert utf16["message"].startswith("x.csv is UTF-16")
    ragged = b"customer_id,name\nCU1,a,b\n"
    error = _error(upload("customers", "客户数据.csv", ragged), 400, "unreadable_file")
    assert error["message"] == (
        "客户数据.csv: not a readable CSV file: a line has more fields than the header"
    )


def test_reimporting_extra_columns_after_a_batch_of_plain_customers(
    upload: Any, store_url: str, tmp_path: Path
) -> None:
    """Defect 1 through the API: `extra` NULL for the first 1,024 stored customers made the
    re-import's comparison read crash (500)."""
    plain = tmp_path / "plain.csv"
    plain.write_text("customer_id,name\n" + "".join(f"A{i:05d},王{i}\n" for i in range(1_100)))
    assert import_file("customers", plain, store_url).accepted == 1_100
    extra = "customer_id,name,email\n" + "".join(f"B{i},赵{i},b{i}@x.cn\n" for i in range(3))
    first = upload("customers", "x.csv", extra.encode())
    assert first.status_code == 200, first.text
    again = upload("customers", "x.csv", extra.encode())
    assert again.status_code == 200, again.text
    assert (again.json()["accepted"], again.json()["unchanged"]) == (0, 3)


def test_a_dead_import_worker_is_a_clean_error_and_is_replaced(upload: Any, store_url: str) -> None:
    assert upload("customers", "a.csv", TEXT.encode()).status_code == 200
    pool = upload.app.state.import_pool
    (worker,) = pool._processes.values()
    os.kill(worker.pid, signal.SIGKILL)  # e.g. the kernel's OOM killer
    worker.join(10)
    time.sleep(0.2)  # the pool notices its worker is gone
    more = TEXT.replace("CU1", "CU3").replace("CU2", "CU4").encode()
    error = _error(upload("customers", "b.csv", more), 503, "import_failed")
    assert "import worker stopped" in error["message"]
    assert _stored(store_url) == 2  # nothing of b.csv
    again = upload("customers", "b.csv", more)
    assert again.status_code == 200, again.text
    assert _stored(store_url) == 4


def test_a_store_failure_in_the_worker_is_a_clean_error(upload: Any, store_url: str) -> None:
    engine = engine_for(store_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE imports"))  # the import's own record cannot be written
    engine.dispose()
    error = _error(upload("customers", "a.csv", TEXT.encode()), 503, "import_failed")
    assert error["message"].startswith("the store could not complete the import")
    assert _stored(store_url) == 0  # the rows landed in the same transaction: rolled back

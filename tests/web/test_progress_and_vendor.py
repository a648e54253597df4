"""A running backfill's progress row polls until the run ends; the vendor script's integrity
check refuses a tampered tarball (offline)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from postloan.store.db import engine_for
from postloan.store.schema import runs
from tests.web.conftest import Store
from tests.web.test_pages import login

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "vendor_web_assets.py"


def test_running_run_polls_then_stops(fresh_client: TestClient, web_store: Store) -> None:
    engine = engine_for(web_store.url)
    with engine.begin() as conn:
        version = conn.execute(select(runs.c.policy_version)).scalars().first()
        run_id = conn.execute(
            insert(runs).values(
                kind="backfill",
                date_from=date(2025, 1, 1),
                date_to=date(2025, 1, 10),
                policy_version=version,
                status="running",
                started_at=datetime.now(UTC),
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    login(fresh_client, "boss")
    row = fresh_client.get(f"/runs/{run_id}/row")
    assert 'hx-trigger="every 2s"' in row.text and "0/10" in row.text
    with engine.begin() as conn:
        conn.execute(
            update(runs)
            .where(runs.c.run_id == run_id)
            .values(status="succeeded", finished_at=datetime.now(UTC), rows=0)
        )
    engine.dispose()
    row = fresh_client.get(f"/runs/{run_id}/row")
    assert "hx-trigger" not in row.text and "10/10" in row.text


def _vendor_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("vendor_web_assets", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_vendor_integrity_check() -> None:
    vendor = _vendor_module()
    data = b"tarball bytes"
    good = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    vendor._check_integrity(data, good, "x@1")
    with pytest.raises(vendor.VendorError, match="integrity mismatch"):
        vendor._check_integrity(data + b"!", good, "x@1")
    with pytest.raises(vendor.VendorError, match="no usable integrity"):
        vendor._check_integrity(data, "md5-abc", "x@1")

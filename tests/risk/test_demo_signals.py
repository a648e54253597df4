"""The demo generator gives every default early-warning signal something to find (item 6 of
issue 13): on 1,000 accounts and five dates each signal of the default catalogue has hits,
except `broken_promises`, which counts collections' recorded promises (no contract file; the
demo records some between its two runs: tests/collections/test_demo_promises.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from postloan.contract import write_contract_files
from postloan.policy import default_policy
from postloan.risk.tables import risk_hits
from postloan.runs.service import run_dates
from postloan.store.db import engine_for
from postloan.synth import generate
from tests.risk.conftest import AS_OF, DATES
from tests.store.conftest import import_all


def test_every_default_signal_but_broken_promises_fires(make_store: Any, tmp_path: Path) -> None:
    write_contract_files(generate(accounts=1000, seed=13, as_of=AS_OF), tmp_path, fmt="csv")
    url = make_store("sqlite")
    import_all(url, tmp_path)
    run_dates(url, DATES, default_policy())
    engine = engine_for(url)
    with engine.connect() as conn:
        fired = set(conn.execute(select(risk_hits.c.signal_id).distinct()).scalars())
    engine.dispose()
    expected = {s.id for s in default_policy().risk.signals} - {"broken_promises"}
    assert fired == expected

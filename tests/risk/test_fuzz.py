"""Property-based checks of risk's API operations against /openapi.json (schemathesis, as
`tests/api/test_schemathesis.py` does for every route), as admin and as a branch credit
officer: no response is a server error and every response matches its documented schema."""

# ruff: noqa: F811 — the store fixtures imported below are requested by name.
from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

from postloan.api.app import create_app
from tests.api.conftest import populate
from tests.store.conftest import make_store, store_url  # noqa: F401

EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 10}


def _fuzz(operation: Any, mode: GenerationMode, examples: int, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(
            headers=headers, checks=[not_a_server_error, response_schema_conformance]
        )

    check()


def test_risk_operations_fuzz(store_url: str, tmp_path: Path) -> None:
    world = populate(store_url, tmp_path / "files")
    app = create_app(store_url, policy_path=tmp_path / "policy.toml")
    with TestClient(app):
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [r.ok() for r in schema.get_all_operations()]
        mine = [o for o in operations if o.path.startswith("/api/risk/")]
        assert len(mine) == 17  # RK-1/EW-1 (8), the model registry (8) and its monitoring (1)
        for who in ("admin", "credit_officer"):
            for operation in mine:
                for mode, examples in EXAMPLES.items():
                    _fuzz(operation, mode, examples, world.headers(who))

"""Property-based checks of tiering's API operations against /openapi.json (schemathesis), as a
risk manager (every tiering action) on a tiered store: no response is a server error and every
response matches its documented schema."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

from postloan.api.app import create_app
from tests.api.conftest import populate
from tests.store.conftest import store_url  # noqa: F401  (the fixture: SQLite, and PostgreSQL)

EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 10}


def test_tiering_operations_fuzz(store_url: str, tmp_path: Path) -> None:  # noqa: F811
    world = populate(store_url, tmp_path / "files")
    app = create_app(store_url, policy_path=tmp_path / "policy.toml")
    headers = world.headers("risk_manager")
    with TestClient(app):
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [r.ok() for r in schema.get_all_operations()
                      if r.ok().path.startswith("/api/tiering/")]  # fmt: skip
        assert len(operations) == 13
        for operation in operations:
            for mode, examples in EXAMPLES.items():

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(max_examples=examples, deadline=None, database=None,
                          phases=[Phase.explicit, Phase.generate],
                          suppress_health_check=list(HealthCheck))  # fmt: skip
                def check(case: schemathesis.Case) -> None:
                    case.call_and_validate(
                        headers=headers, checks=[not_a_server_error, response_schema_conformance]
                    )

                check()

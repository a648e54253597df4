"""Property-based checks of every operation against /openapi.json (schemathesis), as admin:
no response is a server error and every response matches its documented schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

from postloan.api.app import create_app
from tests.api.conftest import populate

SKIP = {("POST", "/api/auth/logout")}  # would revoke the token the test runs with
EXAMPLES = {GenerationMode.POSITIVE: 30, GenerationMode.NEGATIVE: 15}


@pytest.mark.slow
def test_openapi_fuzz(store_url: str, tmp_path: Path) -> None:
    world = populate(store_url, tmp_path / "files")
    app = create_app(store_url, policy_path=tmp_path / "policy.toml")
    headers = world.headers("admin")
    with TestClient(app):  # lifespan: the worker processes are stopped at the end
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 12
        for operation in operations:
            if (operation.method.upper(), operation.path) in SKIP:
                continue
            for mode, examples in EXAMPLES.items():

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(
                    max_examples=examples,
                    deadline=None,
                    database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                def check(case: schemathesis.Case) -> None:
                    case.call_and_validate(
                        headers=headers,
                        checks=[not_a_server_error, response_schema_conformance],
                    )

                check()

"""Domain errors (postloan.errors) are mapped to HTTP once, by kind, in api.errors — a rule's
error reaches the client with its status, code, message and field, and nothing else."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from postloan.api.errors import install_error_handlers
from postloan.collections.agreements import AgreementConflict, MakerCheckerRefused
from postloan.errors import ConflictError, DomainError, InvalidError, NotFoundError, RefusedError

CASES = [
    (NotFoundError("case 9: not found", "case_id"), 404, "not_found", "case_id"),
    (ConflictError("already closed", "case_id"), 409, "conflict", "case_id"),
    (InvalidError("amount: must be positive", "amount"), 422, "invalid", "amount"),
    (RefusedError("not your own proposal"), 403, "forbidden", None),
    (InvalidError("odd", "x", code="identifier_search"), 422, "identifier_search", "x"),
    (AgreementConflict("loan is closed", "account_id"), 409, "conflict", "account_id"),
    (MakerCheckerRefused("the proposer may not approve"), 403, "maker_checker", None),
    (DomainError("a bare domain error"), 422, "invalid", None),
]


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/raise/{i}")
    def raise_one(i: int) -> None:
        raise CASES[i][0]

    return TestClient(app)


@pytest.mark.parametrize("i", range(len(CASES)))
def test_each_kind_maps_to_its_status(client: TestClient, i: int) -> None:
    error, status, code, field = CASES[i]
    answer = client.get(f"/raise/{i}")
    assert answer.status_code == status
    assert answer.json() == {"error": {"code": code, "message": error.message, "field": field}}

"""The policy: read the effective one; replace it (admin), validated, versioned, audited."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, select

from postloan.access import audit
from postloan.access.permissions import Action
from postloan.access.users import User
from postloan.api.deps import get_engine, now, require
from postloan.api.errors import ERROR_RESPONSES
from postloan.policy import Policy, canonical_json, dump_policy_toml, policy_from_dict
from postloan.policy.loader import PACKAGED_DEFAULT, policy_at, policy_file
from postloan.store.schema import policy_versions

router = APIRouter(prefix="/api/policy", tags=["policy"], responses=ERROR_RESPONSES)


class PolicyOut(BaseModel):
    version: str = Field(description="SHA-256 of the policy's canonical JSON")
    source: str = Field(description="the policy file, or 'default' for the packaged policy")
    policy: dict[str, Any]


def policy_path(request: Request) -> Path:
    """Where the API keeps its policy: create_app(policy_path=) (tests), else the policy in
    force's file for every entry point (`postloan.policy.loader.policy_file`)."""
    configured = request.app.state.policy_path
    return Path(configured) if configured is not None else policy_file()


def effective_policy(request: Request) -> tuple[Policy, str]:
    """The policy in force for the API, and where it came from."""
    policy, source, _ = effective_policy_and_version(request)
    return policy, source


def effective_policy_and_version(request: Request) -> tuple[Policy, str, str]:
    """The policy in force, where it came from, and its version: the same policy the CLI's
    `run`, `report` and `demo` use (`policy_in_force`), cached per file stamp."""
    found = policy_at(policy_path(request))
    source = "default" if found.source == PACKAGED_DEFAULT else found.source
    return found.policy, source, found.version


def record_version(conn: Connection, policy: Policy, at: datetime) -> None:
    known = conn.execute(
        select(policy_versions.c.version).where(policy_versions.c.version == policy.version)
    ).first()
    if not known:
        conn.execute(
            policy_versions.insert().values(
                version=policy.version, content=canonical_json(policy), recorded_at=at
            )
        )


def _out(policy: Policy, source: str) -> PolicyOut:
    return PolicyOut(version=policy.version, source=source, policy=policy.model_dump(mode="json"))


@router.get("", response_model=PolicyOut)
def get_policy(request: Request, _user: User = Depends(require(Action.POLICY_VIEW))) -> PolicyOut:
    """The effective policy and its version."""
    return _out(*effective_policy(request))


@router.put("", response_model=PolicyOut)
def replace_policy(
    request: Request,
    body: dict[str, Any] = Body(
        description="the whole policy as JSON (the TOML file's structure); invalid → 422 "
        "naming the parameter"
    ),
    user: User = Depends(require(Action.POLICY_REPLACE)),
    engine: Engine = Depends(get_engine),
) -> PolicyOut:
    """Validate and replace the policy: the file is rewritten, the version recorded in
    `policy_versions`, the change audited. Later runs use it."""
    policy = policy_from_dict(body, "request body")  # PolicyError → 422 naming the parameter
    path = policy_path(request)
    previous, _ = effective_policy(request)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dump_policy_toml(policy), encoding="utf-8")
    at = now()
    with engine.connect() as conn:
        record_version(conn, policy, at)
        audit.record(
            conn, actor=user.username, action="policy.replace", target_type="policy",
            target_id=policy.version,
            detail={"previous": previous.version, "version": policy.version, "file": str(path)},
            now=at,
        )  # fmt: skip
        os.replace(tmp, path)
        conn.commit()
    return _out(policy, str(path))

"""A decision tree into the policy (LY-3), maker-checker: one person proposes the tree fitted on
the stored history (`report.tree`), another approves it, and only the approval makes a new
policy version — the policy it was proposed against with `[tiering.tree].rules` replaced by the
tree's. A proposal against a policy since replaced is refused (propose again: its what-if was
against the old one). Each step audited; flushes, never commits (the caller commits; the
approval's policy file is written by `decide_and_write`, for the API and the workbench)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, true, update

from postloan.access import audit
from postloan.errors import ConflictError, InvalidError, NotFoundError, RefusedError
from postloan.policy import Policy, canonical_json, dump_policy_toml, policy_from_dict
from postloan.store.schema import policy_versions
from postloan.tiering import report
from postloan.tiering.tables import tier_tree_proposals

MAX_NOTE = 1000
P = tier_tree_proposals.c


def _note(note: str) -> str:
    text = note.strip()
    if not text or len(text) > MAX_NOTE or "\x00" in text:
        raise InvalidError(f"note: say why, in 1 to {MAX_NOTE} characters", field="note")
    return text


def rules_of(fitted: dict[str, Any]) -> list[dict[str, Any]]:
    """The fitted tree's leaves as `[tiering.tree].rules` entries."""
    return [{"conditions": r["conditions"], "label": r["label"]} for r in fitted["rules"]]


@dataclass(frozen=True)
class Proposal:
    proposal_id: int
    rules: list[dict[str, Any]]
    samples: int
    accuracy: float | None


def propose_tree(
    conn: Connection, policy: Policy, start: date, end: date, max_depth: int, note: str,
    actor: str, now: datetime,
) -> Proposal:  # fmt: skip
    """Fit the tree on the whole history of [start, end] and propose its rules."""
    text = _note(note)
    fitted = report.tree(conn, start, end, true(), max_depth)
    if not fitted["rules"]:
        raise ConflictError("too little history to fit a tree on (or one outcome only)",
                            field="from")  # fmt: skip
    rules = rules_of(fitted)
    key = conn.execute(
        insert(tier_tree_proposals).values(
            fitted_from=start, fitted_to=end, samples=fitted["samples"],
            accuracy=fitted["accuracy"], rules=json.dumps(rules), base_version=policy.version,
            note=text, proposed_by=actor, proposed_at=now, status="proposed")
    ).inserted_primary_key  # fmt: skip
    assert key is not None
    audit.record(conn, actor=actor, action="tiering.tree.propose", target_type="policy",
                 target_id=policy.version, now=now,
                 detail={"proposal_id": int(key[0]), "from": start.isoformat(),
                         "to": end.isoformat(), "rules": len(rules), "note": text})  # fmt: skip
    return Proposal(int(key[0]), rules, fitted["samples"], fitted["accuracy"])


def proposal_row(conn: Connection, proposal_id: int) -> Any:
    found = conn.execute(select(tier_tree_proposals).where(P.proposal_id == proposal_id)).first()
    if found is None:
        raise NotFoundError(f"tree proposal {proposal_id}: not found", field="proposal_id")
    return found


def proposals(conn: Connection, limit: int = 50) -> list[dict[str, Any]]:
    rows = conn.execute(select(tier_tree_proposals).order_by(P.proposal_id.desc()).limit(limit))
    return [as_dict(r) for r in rows]


def as_dict(row: Any) -> dict[str, Any]:
    found = dict(row._mapping)
    found["rules"] = json.loads(found["rules"])
    for k, v in found.items():
        if isinstance(v, date | datetime):
            found[k] = v.isoformat()
    return found


def with_rules(policy: Policy, rules: list[dict[str, Any]]) -> Policy:
    """`policy` with the tree's rules in `[tiering.tree]` (validated like any policy)."""
    data = policy.model_dump(mode="json")
    data["tiering"]["tree"]["rules"] = rules
    return policy_from_dict(data, "tree proposal")


def decide_tree(
    conn: Connection, proposal_id: int, approve: bool, note: str, current: Policy, actor: str,
    now: datetime,
) -> tuple[str, Policy | None]:  # fmt: skip
    """Approve (→ the new policy, for the caller to write) or reject a proposal; the decider
    must not be its proposer, and the policy must still be the one it was proposed against."""
    row = proposal_row(conn, proposal_id)
    if row.status != "proposed":
        raise ConflictError(f"tree proposal {proposal_id} is already {row.status}")
    if row.proposed_by == actor:
        raise RefusedError("maker-checker: another user must decide your own proposal")
    text = _note(note)
    adopted = None
    if approve:
        if current.version != row.base_version:
            raise ConflictError("the policy was replaced since this tree was proposed: "
                                "propose it again against the policy in force")  # fmt: skip
        adopted = with_rules(current, json.loads(row.rules))
    status = "adopted" if approve else "rejected"
    done = conn.execute(
        update(tier_tree_proposals)
        .where(P.proposal_id == proposal_id, P.status == "proposed")
        .values(status=status, decided_by=actor, decided_at=now, decision_note=text,
                adopted_version=None if adopted is None else adopted.version)
    )  # fmt: skip
    if done.rowcount != 1:  # decided meanwhile by someone else
        raise ConflictError(f"tree proposal {proposal_id} was decided meanwhile")
    audit.record(conn, actor=actor, action=f"tiering.tree.{status}", target_type="policy",
                 target_id=row.base_version, now=now,
                 detail={"proposal_id": proposal_id, "proposed_by": row.proposed_by,
                         "previous": current.version,
                         "version": None if adopted is None else adopted.version,
                         "note": text})  # fmt: skip
    return status, adopted


def decide_and_write(
    conn: Connection, proposal_id: int, approve: bool, note: str, current: Policy, path: Path,
    actor: str, now: datetime,
) -> tuple[str, Policy | None]:  # fmt: skip
    """`decide_tree`, and on approval the new policy written where the policy in force lives
    (`path`) the way a policy replacement is: the file replaced whole (a temporary file moved
    over it), the version recorded in `policy_versions`. The caller commits after."""
    status, adopted = decide_tree(conn, proposal_id, approve, note, current, actor, now)
    if adopted is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(dump_policy_toml(adopted), encoding="utf-8")
        v = policy_versions.c.version
        if conn.execute(select(v).where(v == adopted.version)).first() is None:
            conn.execute(policy_versions.insert().values(
                version=adopted.version, content=canonical_json(adopted), recorded_at=now
            ))  # fmt: skip
        os.replace(tmp, path)
    return status, adopted

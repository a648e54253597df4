"""Management reporting's permission actions and who holds them (merged into the one
permission matrix, `access.permissions`, when the area's declaration is imported).

Seed 002's 考核与奖惩 puts the pack in management's hands; risk management owns the KPI
definitions (policy) and reads the same figures; auditors read everything. Branch roles that
are judged on the figures (collection supervisors, credit officers) see their branch's pack.
The drill-down lists accounts — only roles that may see accounts get it, within their scope.
"""

from __future__ import annotations

from enum import StrEnum

from postloan.access.permissions import add_area_actions
from postloan.area import ActionGrant


class ManagementAction(StrEnum):
    PACK = "management.pack"  # the portfolio pack (figures, roll rates, vintages, staff)
    DRILL = "management.drill"  # the accounts behind one figure
    EXPORT = "management.export"  # the pack as .xlsx / CSV / Parquet
    WHATIF = "management.whatif"  # a candidate policy replayed on the stored history


A = ManagementAction
_HEAD = {"manager": "all", "risk_manager": "all", "auditor": "all"}

GRANTS: tuple[ActionGrant, ...] = (
    ActionGrant(
        A.PACK,
        {**_HEAD, "collection_supervisor": "branch", "credit_officer": "branch"},
        "the portfolio pack: KPIs by dimension and month, roll rates, vintages, staff",
    ),
    ActionGrant(
        A.DRILL,
        {**_HEAD, "collection_supervisor": "branch"},
        "the accounts behind one figure of the pack",
    ),
    ActionGrant(A.EXPORT, _HEAD, "the pack as Excel, CSV or Parquet (aggregates only)"),
    ActionGrant(
        A.WHATIF,
        {"risk_manager": "all", "manager": "all"},
        "a candidate policy replayed on the stored history beside the policy in force",
    ),
)

COMMANDS = {"report pack": A.PACK.value, "whatif": A.WHATIF.value}

RATIONALE = """\
- **Management reporting** (`management.*`): the portfolio pack is what management is judged
  on and judges by (seed 002 考核与奖惩): managers, risk managers and auditors read it for the
  whole book; collection supervisors and credit officers read their branch's (the figures they
  are ranked on). The drill-down lists the accounts behind a figure (ids, DPD, class, balance,
  no personal fields) for the head-office readers and collection supervisors in their branch;
  every drill-down is audited. Exports carry aggregates only, for the head-office readers.
  The KPI definitions are policy (`policy.replace`), owned by risk management.
  The policy what-if (`management.whatif`) replays a candidate policy over the whole stored
  history (portfolio-wide aggregates, no personal field): risk management, who drafts policy,
  and management, who adopts it; it writes nothing but its audit entry (who, range, the
  candidate's version).
"""

add_area_actions("management", GRANTS, COMMANDS, RATIONALE)

"""Tiering's permission actions and who holds them (merged into the one permission matrix,
`access.permissions`, when the area's declaration is imported).

Seed 004 puts tiering in risk management's hands (风险等级、定期审查分层标准); the tiers serve the
credit officers (客户经理), marketing (交叉销售、忠诚度) and customer service, who read a customer's
tier within their data scope; management reads the aggregates only.
"""

from __future__ import annotations

from enum import StrEnum

from postloan.access.permissions import add_area_actions
from postloan.area import ActionGrant


class TieringAction(StrEnum):
    VIEW = "tiering.view"  # a customer's tier card and its history
    REPORT = "tiering.report"  # aggregates: distribution, transitions, RFM segments
    REVIEW = "tiering.review"  # the back-test per tier and month (NPL, churn)
    EXPORT = "tiering.export"  # `postloan export tiers`: every customer's tier on D
    ADOPT = "tiering.adopt"  # propose a fitted tree for the policy, or decide another's


A = TieringAction
_READERS = {"risk_manager": "all", "credit_officer": "branch", "customer_service": "branch",
            "marketing": "all", "auditor": "all"}  # fmt: skip

GRANTS: tuple[ActionGrant, ...] = (
    ActionGrant(A.VIEW, _READERS, "a customer's tier card"),
    ActionGrant(A.REPORT, {**_READERS, "manager": "all"},
                "tier distribution, transitions and RFM segments"),
    ActionGrant(A.REVIEW, {"risk_manager": "all", "manager": "all", "auditor": "all"},
                "the tiers' back-test on the stored history"),
    ActionGrant(A.EXPORT, {"risk_manager": "all"}, "the tiers file (personal data)"),
    ActionGrant(A.ADOPT, {"risk_manager": "all"},
                "propose a fitted decision tree for the policy, or approve another's"),
)  # fmt: skip

COMMANDS = {"report tiers": A.REPORT.value, "export tiers": A.EXPORT.value}

RATIONALE = """\
- **Tiering** (`tiering.*`): risk management owns the tiers (seed 004: 风险等级, 定期审查分层标准):
  it reads every customer's tier card, the aggregates and the back-test, and exports the tiers
  file; its cut-offs are policy settings (replaced through the policy, `policy.replace`). A
  decision tree fitted on the history enters the policy only when one risk manager proposes
  it and another approves it (`tiering.adopt`, maker-checker; the approval writes the new
  policy version, audited) — the admin holds it too, never for their own proposal. Credit
  officers and customer service (their branch) and marketing (head office) read the tier cards
  and aggregates of their scope — the tier decides their contact plan and offers. Roles without
  `account.view` (marketing, auditors) see tiers and classes without amounts. Managers read
  aggregates and the back-test only (no customer card); auditors read everything, change
  nothing. The export is every customer's tier and scores: a judgement about a person, so
  personal data (PIPL Art. 4) — risk managers and the admin only, audited as
  `export.personal`. Collectors, collection supervisors and legal officers hold no tiering
  action: collections works cases, not tiers.
"""

add_area_actions("tiering", GRANTS, COMMANDS, RATIONALE)

"""Churn's permission actions and who holds them (merged into the one permission matrix,
`access.permissions`, when the area's declaration is imported).

The seed's churn working group (000: "信贷管理部门、风险管理部门、市场营销部门、客服部门", led by
management) sees the pool; branch roles their branch. Collectors and collection supervisors
work overdue cases, not relationships, and legal officers get level-1 customers through
collections: none of them holds a churn action.
"""

from __future__ import annotations

from enum import StrEnum

from postloan.access.permissions import add_area_actions
from postloan.area import ActionGrant


class ChurnAction(StrEnum):
    VIEW = "churn.view"  # the pool and a customer's churn card (evidence, episodes)
    REASON = "churn.reason"  # confirm or change a customer's churn reason (audited)
    REPORT = "churn.report"  # churn KPIs: rates, pool size and flows
    EXPORT = "churn.export"  # `postloan export churn`: the whole portfolio's churn file
    MEASURES = "churn.measures"  # measures (tasks, hand-overs) and offers: read
    FOLLOWUP = "churn.followup"  # level 2: complete the follow-up, accept/decline its offers
    CALLBACK = "churn.callback"  # level 3: complete a callback / SMS (win-back campaigns)
    EVALUATE = "churn.evaluate"  # the measures' evaluation against the holdout (CH-7)


A = ChurnAction
_GROUP = {"risk_manager": "all", "marketing": "all", "manager": "all", "auditor": "all",
          "credit_officer": "branch", "customer_service": "branch"}  # fmt: skip

GRANTS: tuple[ActionGrant, ...] = (
    ActionGrant(A.VIEW, _GROUP, "the churned-customer pool and churn cards"),
    ActionGrant(A.REASON, {"credit_officer": "branch", "customer_service": "branch",
                           "risk_manager": "all"}, "confirm or change a churn reason"),
    ActionGrant(A.REPORT, _GROUP, "churn KPIs"),
    ActionGrant(A.EXPORT, {"risk_manager": "all"}, "the churn file (personal data)"),
    ActionGrant(A.MEASURES, _GROUP, "churn measures, tasks and offers"),
    ActionGrant(A.FOLLOWUP, {"credit_officer": "branch", "risk_manager": "all"},
                "level-2 win-back follow-ups and their offers"),
    ActionGrant(A.CALLBACK, {"customer_service": "branch", "marketing": "all",
                             "risk_manager": "all"}, "level-3 win-back callbacks and SMS"),
    ActionGrant(A.EVALUATE, _GROUP, "the measures' evaluation against the holdout"),
)  # fmt: skip

COMMANDS = {"report churn": A.REPORT.value, "export churn": A.EXPORT.value}

RATIONALE = """\
- **Churn** (`churn.*`): the seed's churn working group — credit (客户经理: their branch),
  risk (head office), marketing (head office) and customer service (their branch) — sees the
  pool, the churn cards and the KPIs; managers and auditors read them. A churn reason is
  confirmed or changed (audited) by whoever talks to the customer about why they left: the
  credit officer and customer service of the branch, or risk at head office; marketing reads
  but does not decide reasons. Roles without `account.view` (marketing, auditors) see the
  pool without amounts and evidence (account data). Collectors, collection supervisors and
  legal officers hold no churn action. The churn export (`churn.export`) is a file of every
  identified customer: customer ids are pseudonymous but link to the customer file in one
  step, and "level 1: suspected malicious default" is a sensitive judgement about a person,
  so it is personal data (PIPL Art. 4, 28) — only risk managers (who own identification and
  already see every account) and the admin export it, and each export is audited as
  `export.personal`.
- **Churn measures** (`churn.measures`, `churn.followup`, `churn.callback`, `churn.evaluate`):
  the working group and management read the measures, offers and their evaluation. A level-2
  follow-up with its offers (优惠利率、延长期限、增加额度) is the account manager's (客户经理负责
  跟进): the credit officer of the branch, or risk at head office, completes it and accepts or
  declines the offers. Level-3 callbacks and SMS are customer service's (their branch) and
  marketing's win-back campaigns (head office); risk may do either. Level-1 hand-overs are
  worked in collections (its own actions), not here. Managers and auditors only read.
"""

add_area_actions("churn", GRANTS, COMMANDS, RATIONALE)

"""Collections' permission actions and who holds them (merged into the one permission matrix,
`access.permissions`, when this module is imported — the area's declaration imports it).

Scopes: "all" customers, the user's "branch", or customers "assigned" to the user.
"""

from __future__ import annotations

from enum import StrEnum

from postloan.access.permissions import add_area_actions
from postloan.area import ActionGrant


class CollectionsAction(StrEnum):
    CASE_VIEW = "case.view"  # cases, tasks, contacts, promises, agreements of customers in scope
    CONTACT_RECORD = "contact.record"  # record a contact / complete a task (policy-checked)
    AGREEMENT_PROPOSE = "agreement.propose"  # the maker of a repayment agreement
    AGREEMENT_APPROVE = "agreement.approve"  # the checker: approve or reject (never one's own)
    CASE_ASSIGN = "case.assign"  # allocate and reassign cases to collectors
    LEGAL_MANAGE = "legal.manage"  # legal cases: stages, documents, costs, evidence
    WRITEOFF_APPROVE = "writeoff.approve"  # approve a write-off or asset disposal
    ALERT_VIEW = "alert.view"  # risk alerts (e.g. a customer's asset transfer)
    REPORT_COLLECTIONS = "report.collections"  # collection KPIs


C = CollectionsAction
_HEAD_OFFICE_READERS = ("risk_manager", "legal_officer", "manager", "auditor")

GRANTS: tuple[ActionGrant, ...] = (
    ActionGrant(C.CASE_VIEW, {"collector": "assigned", "collection_supervisor": "branch",
                              **dict.fromkeys(_HEAD_OFFICE_READERS, "all")}),
    ActionGrant(C.CONTACT_RECORD, {"collector": "assigned", "collection_supervisor": "branch",
                                   "legal_officer": "all"}),
    ActionGrant(C.AGREEMENT_PROPOSE, {"collector": "assigned", "collection_supervisor": "branch"}),
    ActionGrant(C.AGREEMENT_APPROVE, {"collection_supervisor": "branch", "risk_manager": "all"}),
    ActionGrant(C.CASE_ASSIGN, {"collection_supervisor": "branch"}),
    ActionGrant(C.LEGAL_MANAGE, {"legal_officer": "all"}),
    ActionGrant(C.WRITEOFF_APPROVE, {"risk_manager": "all", "manager": "all"}),
    ActionGrant(C.ALERT_VIEW, {"risk_manager": "all", "manager": "all"}),
    ActionGrant(C.REPORT_COLLECTIONS, {"collector": "assigned", "collection_supervisor": "branch",
                                       **dict.fromkeys(_HEAD_OFFICE_READERS, "all")}),
)  # fmt: skip

COMMANDS = {"report compliance|collections": C.REPORT_COLLECTIONS.value}

RATIONALE = """\
- **Collections** (`case.*`, `contact.record`, `agreement.*`, `legal.manage`, …): collectors
  work the cases of their assigned customers (view, record contacts, propose agreements, see
  their own KPIs); collection supervisors do the same for their branch, approve agreements
  (never their own: maker-checker) and allocate cases; legal officers run legal cases
  portfolio-wide; write-offs and asset disposals are approved by risk managers or managers;
  risk managers also approve agreements at head office and receive risk alerts; managers and
  auditors read cases and KPIs.
"""

add_area_actions("collections", GRANTS, COMMANDS, RATIONALE)

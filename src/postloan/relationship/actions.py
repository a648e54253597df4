"""The relationship area's permission actions and who holds them (merged into the one
permission matrix, `access.permissions`, when the area's declaration is imported)."""

from __future__ import annotations

from enum import StrEnum

from postloan.access.permissions import add_area_actions
from postloan.area import ActionGrant


class RelAction(StrEnum):
    VIEW = "relationship.view"  # complaints, plans, points and surveys: read
    COMPLAINT = "complaint.handle"  # take in, assign, declare complex, decide, root cause
    COMPLAINT_APPROVE = "complaint.approve"  # a senior's approval of a +30-day extension
    HARDSHIP = "hardship.propose"  # propose, withdraw, mark broken / completed
    HARDSHIP_APPROVE = "hardship.approve"  # the checker of a hardship plan
    LOYALTY = "loyalty.offer"  # redeem points for an offer; goodwill remedies
    SURVEY = "survey.manage"  # questionnaire versions and responses
    REPORT = "relationship.report"  # complaint and satisfaction reports
    CONTACT = "contact.plan"  # contact plans (CR-1) and completing their contacts


A = RelAction
_READ = {
    "customer_service": "branch",
    "credit_officer": "branch",
    "marketing": "all",
    "risk_manager": "all",
    "manager": "all",
    "auditor": "all",
}

GRANTS: tuple[ActionGrant, ...] = (
    ActionGrant(A.VIEW, _READ, "complaints with their clocks, hardship plans, points, surveys"),
    ActionGrant(
        A.COMPLAINT, {"customer_service": "branch"}, "take in and handle complaints (their branch)"
    ),
    ActionGrant(
        A.COMPLAINT_APPROVE,
        {"manager": "all", "risk_manager": "all"},
        "approve a complaint's +30-day extension (senior management)",
    ),
    ActionGrant(
        A.HARDSHIP,
        {"credit_officer": "branch", "customer_service": "branch"},
        "propose and follow hardship plans",
    ),
    ActionGrant(
        A.HARDSHIP_APPROVE,
        {"risk_manager": "all", "credit_officer": "branch"},
        "approve or reject hardship plans (maker-checker)",
    ),
    ActionGrant(
        A.LOYALTY,
        {"marketing": "all", "customer_service": "branch"},
        "loyalty offers and goodwill remedies",
    ),
    ActionGrant(
        A.SURVEY,
        {"customer_service": "branch", "marketing": "all"},
        "survey questionnaires and responses",
    ),
    ActionGrant(
        A.CONTACT,
        {"marketing": "all", "customer_service": "branch"},
        "contact plans and their contacts (branch roles: their branch's plans)",
    ),
    ActionGrant(
        A.REPORT,
        {
            "customer_service": "branch",
            "marketing": "all",
            "risk_manager": "all",
            "manager": "all",
            "auditor": "all",
        },
        "complaint and satisfaction reports",
    ),
)

COMMANDS = {"report complaints": A.REPORT.value, "report satisfaction": A.REPORT.value}

RATIONALE = """\
- **Relationship** (`relationship.*`, `complaint.*`, `hardship.*`, `loyalty.offer`,
  `survey.manage`): customer service (their branch) takes in and handles complaints and enters
  survey responses; a complaint's +30-day extension needs a senior's approval (managers and
  risk managers at head office, never the handler). Credit (客户经理, their branch) and
  customer service propose hardship plans; credit officers of the branch or risk at head office
  approve them — never the proposer (maker-checker). Marketing owns loyalty offers and
  questionnaires; customer service grants goodwill remedies for complaints of their branch.
  Contact plans (`contact.plan`) are marketing's (head office, any segment) and customer
  service's (their branch's plans only); marketing purposes are checked for consent and
  opt-outs whoever plans them. Managers and auditors only read. Collectors hold none: a
  hardship plan reaches collections as a pause of its work (collections.handover).
"""

add_area_actions("relationship", GRANTS, COMMANDS, RATIONALE)

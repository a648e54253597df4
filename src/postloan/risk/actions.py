"""Risk's permission actions and who holds them (merged into the one permission matrix,
`access.permissions`, when the area's declaration is imported).

Seeds 001/003/004: risk management (风险管理部门) owns the indicators, the thresholds and the
models, and approves departures from them; credit (客户经理), collections and customer service
act on the warnings that reach their customers; management reads.
"""

from __future__ import annotations

from enum import StrEnum

from postloan.access.permissions import add_area_actions
from postloan.area import ActionGrant


class RiskAction(StrEnum):
    VIEW = "risk.view"  # scores, signals, tasks and the watch list of customers in scope
    ACT = "risk.act"  # record a warning task's outcome (audited)
    OVERRIDE = "risk.override"  # propose a qualitative assessment (定性评估) of a grade
    APPROVE = "risk.approve"  # approve or reject another user's assessment (maker-checker)
    BACKTEST = "risk.backtest"  # the signals' back-test and `postloan report warnings`
    MODELS = "risk.models"  # the model registry and its review reports (figures, no customer)
    MODEL_MANAGE = "risk.model_manage"  # register, validate and retire models
    MODEL_APPROVE = "risk.model_approve"  # approve another user's model (maker-checker)


A = RiskAction
_ACTORS = {"credit_officer": "branch", "customer_service": "branch",
           "collection_supervisor": "branch", "collector": "assigned",
           "risk_manager": "all"}  # fmt: skip

GRANTS: tuple[ActionGrant, ...] = (
    ActionGrant(A.VIEW, {**_ACTORS, "manager": "all", "auditor": "all"},
                "risk scores, warning signals, tasks and the watch list"),
    ActionGrant(A.ACT, _ACTORS, "record the outcome of a warning task"),
    ActionGrant(A.OVERRIDE, {"credit_officer": "branch", "risk_manager": "all"},
                "propose an officer's qualitative assessment of a customer's grade"),
    ActionGrant(A.APPROVE, {"risk_manager": "all"},
                "approve or reject an assessment proposed by another user"),
    ActionGrant(A.BACKTEST, {"risk_manager": "all", "manager": "all", "auditor": "all"},
                "the early-warning back-test (portfolio-wide figures)"),
    ActionGrant(A.MODELS, {"risk_manager": "all", "manager": "all", "auditor": "all"},
                "the model registry and model review reports (portfolio-wide figures)"),
    ActionGrant(A.MODEL_MANAGE, {"risk_manager": "all"},
                "register, validate and retire scoring models"),
    ActionGrant(A.MODEL_APPROVE, {"risk_manager": "all"},
                "approve a model registered and validated by other users"),
)  # fmt: skip

COMMANDS = {
    "report warnings": A.BACKTEST.value,
    "report models": A.MODELS.value,
    "model list": A.MODELS.value,
    "model register": A.MODEL_MANAGE.value,
    "model fit-behaviour": A.MODEL_MANAGE.value,
    "model fit-churn": A.MODEL_MANAGE.value,
    "model validate": A.MODEL_MANAGE.value,
    "model run-validations": A.MODEL_MANAGE.value,
    "model retire": A.MODEL_MANAGE.value,
    "model approve": A.MODEL_APPROVE.value,
}

RATIONALE = """\
- **Risk and early warning** (`risk.*`): risk management (head office) owns the score, the
  signal catalogue and its thresholds (the policy), sees every customer and is the only role
  that approves an officer's qualitative assessment (`risk.approve`) — and never its own
  (maker-checker: the approver must be another user). Warnings are acted on by whoever works
  the customer: the credit officer, customer service and the collection supervisor of the
  branch, and the collector for the customers assigned to them (`risk.act` records a task's
  outcome, audited). The credit officer who knows the customer may propose an assessment
  (`risk.override`), as may risk. Managers and auditors read scores and warnings; the
  back-test (`risk.backtest`, also `postloan report warnings`) is portfolio-wide, so only
  head-office risk, managers and auditors see it. Marketing and legal officers hold no risk
  action (legal matters reach legal through collections).
- **Models** (`risk.models`, `risk.model_manage`, `risk.model_approve`): risk management owns
  the scoring models — registers, validates and retires them — and approves them, never one it
  registered or validated itself (maker-checker: a second risk manager); only an approved model
  scores in the daily run. Managers and auditors read the registry and the model review
  reports (portfolio-wide figures, no customer), as a model committee does.
"""

add_area_actions("risk", GRANTS, COMMANDS, RATIONALE)

"""The permission matrix — the one place that says who may do what, over which customers.

`MATRIX[role][action]` is the data scope of a granted action; an absent action is refused.
Scope matters for actions over customer data (which customers); for the others ("run.start",
"policy.view" …) it is "all". `docs/permissions.md` is rendered from this dict by
`render_markdown()`; a test fails when the doc is stale.
"""

from __future__ import annotations

from enum import StrEnum

from postloan.access.roles import Role


class Action(StrEnum):
    CUSTOMER_SEARCH = "customer.search"
    CUSTOMER_VIEW = "customer.view"
    CUSTOMER_REVEAL = "customer.reveal"  # one full (unmasked) value, with a reason, audited
    ACCOUNT_VIEW = "account.view"
    IMPORT_RUN = "import.run"
    RUN_START = "run.start"
    RUN_VIEW = "run.view"
    POLICY_VIEW = "policy.view"
    POLICY_REPLACE = "policy.replace"
    USER_MANAGE = "user.manage"
    AUDIT_VIEW = "audit.view"
    AUDIT_VERIFY = "audit.verify"
    EXPORT_PERSONAL = "export.personal"
    DASHBOARD_VIEW = "dashboard.view"
    STORE_ADMIN = "store.admin"  # migrate the schema, build the demo store, serve the app
    # Collections (issue 5)
    CASE_VIEW = "case.view"  # cases, tasks, contacts, promises, agreements of customers in scope
    CONTACT_RECORD = "contact.record"  # record a contact / complete a task (policy-checked)
    AGREEMENT_PROPOSE = "agreement.propose"  # the maker of a repayment agreement
    AGREEMENT_APPROVE = "agreement.approve"  # the checker: approve or reject (never one's own)
    CASE_ASSIGN = "case.assign"  # allocate and reassign cases to collectors
    LEGAL_MANAGE = "legal.manage"  # legal cases: stages, documents, costs, evidence
    WRITEOFF_APPROVE = "writeoff.approve"  # approve a write-off or asset disposal
    ALERT_VIEW = "alert.view"  # risk alerts (e.g. a customer's asset transfer)
    REPORT_COLLECTIONS = "report.collections"  # collection KPIs


class Scope(StrEnum):
    ALL = "all"  # every customer
    BRANCH = "branch"  # customers of the user's branch
    ASSIGNED = "assigned"  # customers assigned to the user (`assignments`)


A, S = Action, Scope
_VIEW_ALL = {A.CUSTOMER_SEARCH: S.ALL, A.CUSTOMER_VIEW: S.ALL, A.ACCOUNT_VIEW: S.ALL}
_VIEW_BRANCH = {A.CUSTOMER_SEARCH: S.BRANCH, A.CUSTOMER_VIEW: S.BRANCH, A.ACCOUNT_VIEW: S.BRANCH}

MATRIX: dict[Role, dict[Action, Scope]] = {
    Role.COLLECTOR: {
        A.CUSTOMER_SEARCH: S.ASSIGNED,
        A.CUSTOMER_VIEW: S.ASSIGNED,
        A.ACCOUNT_VIEW: S.ASSIGNED,
        A.CASE_VIEW: S.ASSIGNED,
        A.CONTACT_RECORD: S.ASSIGNED,
        A.AGREEMENT_PROPOSE: S.ASSIGNED,
        A.REPORT_COLLECTIONS: S.ASSIGNED,
    },
    Role.COLLECTION_SUPERVISOR: {
        **_VIEW_BRANCH,
        A.CUSTOMER_REVEAL: S.BRANCH,
        A.RUN_VIEW: S.ALL,
        A.DASHBOARD_VIEW: S.BRANCH,
        A.CASE_VIEW: S.BRANCH,
        A.CONTACT_RECORD: S.BRANCH,
        A.AGREEMENT_PROPOSE: S.BRANCH,
        A.AGREEMENT_APPROVE: S.BRANCH,
        A.CASE_ASSIGN: S.BRANCH,
        A.REPORT_COLLECTIONS: S.BRANCH,
    },
    Role.CREDIT_OFFICER: {**_VIEW_BRANCH, A.CUSTOMER_REVEAL: S.BRANCH},
    Role.RISK_MANAGER: {
        **_VIEW_ALL,
        A.IMPORT_RUN: S.ALL,
        A.RUN_START: S.ALL,
        A.RUN_VIEW: S.ALL,
        A.POLICY_VIEW: S.ALL,
        A.DASHBOARD_VIEW: S.ALL,
        A.CASE_VIEW: S.ALL,
        A.AGREEMENT_APPROVE: S.ALL,
        A.WRITEOFF_APPROVE: S.ALL,
        A.ALERT_VIEW: S.ALL,
        A.REPORT_COLLECTIONS: S.ALL,
    },
    Role.LEGAL_OFFICER: {
        **_VIEW_ALL,
        A.CUSTOMER_REVEAL: S.ALL,
        A.CASE_VIEW: S.ALL,
        A.CONTACT_RECORD: S.ALL,
        A.LEGAL_MANAGE: S.ALL,
        A.REPORT_COLLECTIONS: S.ALL,
    },
    Role.CUSTOMER_SERVICE: {**_VIEW_BRANCH},
    Role.MARKETING: {A.CUSTOMER_SEARCH: S.ALL, A.CUSTOMER_VIEW: S.ALL},
    Role.MANAGER: {
        **_VIEW_ALL,
        A.RUN_VIEW: S.ALL,
        A.POLICY_VIEW: S.ALL,
        A.DASHBOARD_VIEW: S.ALL,
        A.CASE_VIEW: S.ALL,
        A.WRITEOFF_APPROVE: S.ALL,
        A.ALERT_VIEW: S.ALL,
        A.REPORT_COLLECTIONS: S.ALL,
    },
    Role.AUDITOR: {
        A.CUSTOMER_SEARCH: S.ALL,
        A.CUSTOMER_VIEW: S.ALL,
        A.RUN_VIEW: S.ALL,
        A.POLICY_VIEW: S.ALL,
        A.AUDIT_VIEW: S.ALL,
        A.AUDIT_VERIFY: S.ALL,
        A.CASE_VIEW: S.ALL,
        A.REPORT_COLLECTIONS: S.ALL,
    },
    Role.ADMIN: {action: S.ALL for action in Action},
}

RATIONALE = """\
- **Everybody sees masked personal data** (ID number, mobile, address, card numbers). A full
  value is only shown through *reveal* (`customer.reveal`): one field, with a stated reason
  (the policy's minimum), written to the tamper-evident audit log (PIPL: least privilege, audit of
  access).
- **Data scope follows the organisation.** Head-office roles (risk manager, legal officer,
  manager, auditor, admin, marketing) see all customers; branch roles (credit officer,
  customer service, collection supervisor) their branch; a collector only the customers
  assigned to them (`assignments`).
- **Reveal** is granted where the job needs a full value: credit officers (re-identifying their
  own branch's borrowers), collection supervisors (verifying a debtor's identity for their
  branch's cases), legal officers (court filings need the full ID number and address), and the
  admin. Collectors, customer service, marketing, managers and auditors never reveal;
  collectors even see a shorter ID mask (first 3 + last 2).
- **Customer service** sees its branch's customers and their accounts (masked) to answer
  calls; identity is checked by asking the caller, never by revealing stored values.
- **Marketing** may search and view customers (masked) but not their accounts; every marketing
  action must also pass `require_consent(customer, "marketing")`.
- **Running the books** (`import.run`, `run.start`) is for risk managers and the admin;
  deleting the latest stored business date undoes a run, so it needs `run.start` too.
  Replacing the policy, managing users and exporting personal data are admin only.
- **The audit log** is viewed and verified by auditors (and the admin); the auditor may also
  look customers up (masked) to follow an audit trail, and read runs and the policy.
- **Dashboards**: risk managers and managers portfolio-wide; collection supervisors for their
  branch (team performance).
- **Collections** (`case.*`, `contact.record`, `agreement.*`, `legal.manage`, …): collectors
  work the cases of their assigned customers (view, record contacts, propose agreements, see
  their own KPIs); collection supervisors do the same for their branch, approve agreements
  (never their own: maker-checker) and allocate cases; legal officers run legal cases
  portfolio-wide; write-offs and asset disposals are approved by risk managers or managers;
  risk managers also approve agreements at head office and receive risk alerts; managers and
  auditors read cases and KPIs.
- **Running the system** (`store.admin`: schema migrations, the demo store, serving the app)
  is the admin's. On the command line, a caller who does not sign in (`postloan --as USER`) is
  the *local operator*: they hold the store's credentials, so they act with the admin's rights,
  audited under their operating-system name (`postloan.cli.operator`, docs/access.md).
"""


def scope_for(role: Role | str, action: Action | str) -> Scope | None:
    """The data scope in which `role` may do `action`; None when it is refused."""
    return MATRIX[Role(role)].get(Action(action))


def can(role: Role | str, action: Action | str) -> bool:
    return scope_for(role, action) is not None


# The command line: every `postloan` command that reads or changes the store, and the action
# it needs with scope *all* (commands act on the whole store). `policy validate|show` and
# `status` only read files handed to them (or the packaged policy) and need none. Enforced by
# `postloan.cli.operator.authorize`.
COMMANDS: dict[str, Action] = {
    "db upgrade": A.STORE_ADMIN,
    "demo": A.STORE_ADMIN,
    "serve": A.STORE_ADMIN,
    "import": A.IMPORT_RUN,
    "run": A.RUN_START,
    "runs delete-date": A.RUN_START,  # undoes a run: the same right as running one
    "runs list": A.RUN_VIEW,
    "export customers|events": A.EXPORT_PERSONAL,  # files with personal information (PIPL)
    "export account-status|loans|…": A.ACCOUNT_VIEW,
    "user create|disable|reset-password|list": A.USER_MANAGE,
    "audit verify|anchor": A.AUDIT_VERIFY,
    "report compliance|collections": A.REPORT_COLLECTIONS,
}


def render_markdown() -> str:
    """`docs/permissions.md`: the matrix as a table, and why it is so."""
    roles = list(Role)
    lines = [
        "# Permissions — who may do what (generated)",
        "",
        "<!-- Generated from `postloan.access.permissions.MATRIX` by",
        "     `postloan.access.permissions.render_markdown()`; tests/access fail when stale. -->",
        "",
        "Cells give the data scope: **all** customers, the user's **branch**, or customers",
        "**assigned** to the user; `—` means refused.",
        "",
        "| action | " + " | ".join(role.value for role in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for action in Action:
        cells = [scope_for(role, action) for role in roles]
        lines.append(
            f"| `{action.value}` | "
            + " | ".join(cell.value if cell else "—" for cell in cells)
            + " |"
        )
    lines += [
        "",
        "## Commands",
        "",
        "A signed-in command (`postloan --as USER ...`) needs the action with scope **all**;",
        "without `--as` the caller is the local operator (admin rights, audited as",
        "`cli:<os user>`), unless `POSTLOAN_CLI_REQUIRE_LOGIN=1`.",
        "",
        "| command | action | roles allowed |",
        "|---|---|---|",
    ]
    for command, action in COMMANDS.items():
        allowed = [role.value for role in roles if scope_for(role, action) == Scope.ALL]
        lines.append(f"| `postloan {command}` | `{action.value}` | {', '.join(allowed)} |")
    lines += ["", "## Why", "", RATIONALE]
    return "\n".join(lines)

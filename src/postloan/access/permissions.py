"""The permission matrix — the one place that says who may do what, over which customers.

`MATRIX[role][action]` is the data scope of a granted core action; an absent action is refused.
Business areas add their own actions (`add_area_actions`, from the area's `actions` module:
`postloan.area.ActionGrant`); `scope_for` and `can` answer for both; an action nobody
declared is an error.
Scope matters for actions over customer data (which customers); for the others ("run.start",
"policy.view" …) it is "all". `docs/permissions.md` is rendered from this dict by
`render_markdown()`; a test fails when the doc is stale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from postloan.access.roles import Role
from postloan.area import ActionGrant


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
    },
    Role.COLLECTION_SUPERVISOR: {
        **_VIEW_BRANCH,
        A.CUSTOMER_REVEAL: S.BRANCH,
        A.RUN_VIEW: S.ALL,
        A.DASHBOARD_VIEW: S.BRANCH,
    },
    Role.CREDIT_OFFICER: {**_VIEW_BRANCH, A.CUSTOMER_REVEAL: S.BRANCH},
    Role.RISK_MANAGER: {
        **_VIEW_ALL,
        A.IMPORT_RUN: S.ALL,
        A.RUN_START: S.ALL,
        A.RUN_VIEW: S.ALL,
        A.POLICY_VIEW: S.ALL,
        A.DASHBOARD_VIEW: S.ALL,
    },
    Role.LEGAL_OFFICER: {
        **_VIEW_ALL,
        A.CUSTOMER_REVEAL: S.ALL,
    },
    Role.CUSTOMER_SERVICE: {**_VIEW_BRANCH},
    Role.MARKETING: {A.CUSTOMER_SEARCH: S.ALL, A.CUSTOMER_VIEW: S.ALL},
    Role.MANAGER: {
        **_VIEW_ALL,
        A.RUN_VIEW: S.ALL,
        A.POLICY_VIEW: S.ALL,
        A.DASHBOARD_VIEW: S.ALL,
    },
    Role.AUDITOR: {
        A.CUSTOMER_SEARCH: S.ALL,
        A.CUSTOMER_VIEW: S.ALL,
        A.RUN_VIEW: S.ALL,
        A.POLICY_VIEW: S.ALL,
        A.AUDIT_VIEW: S.ALL,
        A.AUDIT_VERIFY: S.ALL,
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
- **Running the system** (`store.admin`: schema migrations, the demo store, serving the app)
  is the admin's. On the command line, a caller who does not sign in (`postloan --as USER`) is
  the *local operator*: they hold the store's credentials, so they act with the admin's rights,
  audited under their operating-system name (`postloan.cli.operator`, docs/access.md).
"""


@dataclass(frozen=True)
class _AreaActions:
    area: str
    grants: dict[str, dict[Role, Scope]]  # action → role → scope
    commands: dict[str, str]
    rationale: str


# Business areas' actions (`postloan.area.ActionGrant`), added by each area when its actions
# module is imported (`add_area_actions`); the core declares none of them.
_AREAS: dict[str, _AreaActions] = {}


def add_area_actions(
    area: str,
    grants: Iterable[ActionGrant],
    commands: Mapping[str, str] | None = None,
    rationale: str = "",
) -> None:
    """Merge an area's actions into the matrix (again for the same area: replaced). An action
    the core or another area already declares, or an unknown role or scope, is an error."""
    table: dict[str, dict[Role, Scope]] = {}
    for grant in grants:
        action = str(grant.action)
        taken = action in CORE_ACTIONS or any(
            action in other.grants for name, other in _AREAS.items() if name != area
        )
        if taken or action in table:
            raise ValueError(f"area {area}: action {action} is declared twice")
        table[action] = {Role(role): Scope(scope) for role, scope in grant.grants.items()}
        table[action][Role.ADMIN] = Scope.ALL
    _AREAS[area] = _AreaActions(
        area, table, {k: str(v) for k, v in (commands or {}).items()}, rationale
    )


def remove_area_actions(area: str) -> None:
    """Forget an area's actions (tests that register an area for a while)."""
    _AREAS.pop(area, None)


CORE_ACTIONS = frozenset(action.value for action in Action)


def all_actions() -> list[str]:
    """Every action: the core's, then each area's in the order areas were added."""
    return [a.value for a in Action] + [a for area in _AREAS.values() for a in area.grants]


def all_commands() -> dict[str, str]:
    """CLI command → action, the core's and the areas'."""
    merged = {command: action.value for command, action in COMMANDS.items()}
    for area in _AREAS.values():
        merged.update(area.commands)
    return merged


def scopes_of(role: Role | str) -> list[Scope]:
    """Every scope `role` holds some action in."""
    held = list(MATRIX[Role(role)].values())
    return held + [
        grants[Role(role)]
        for area in _AREAS.values()
        for grants in area.grants.values()
        if Role(role) in grants
    ]


def scope_for(role: Role | str, action: Action | str) -> Scope | None:
    """The data scope in which `role` may do `action`; None when it is refused. An action
    nobody declared (a typo, or an area that is not registered) is a ValueError, not a quiet
    refusal."""
    name = str(action)
    if name in CORE_ACTIONS:
        return MATRIX[Role(role)].get(Action(name))
    for area in _AREAS.values():
        if name in area.grants:
            return area.grants[name].get(Role(role))
    raise ValueError(f"unknown action {name!r} (not the core's nor a registered area's)")


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
    "import account-status": A.RUN_START,  # a cluster run's status, published like a run
    "run": A.RUN_START,
    "runs delete-date": A.RUN_START,  # undoes a run: the same right as running one
    "runs list": A.RUN_VIEW,
    "export customers|events": A.EXPORT_PERSONAL,  # files with personal information (PIPL)
    "export account-status|loans|…": A.ACCOUNT_VIEW,
    "user create|disable|reset-password|list": A.USER_MANAGE,
    "audit verify|anchor": A.AUDIT_VERIFY,
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
    for action in all_actions():
        cells = [scope_for(role, action) for role in roles]
        lines.append(
            f"| `{action}` | " + " | ".join(cell.value if cell else "—" for cell in cells) + " |"
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
    for command, action_name in all_commands().items():
        allowed = [role.value for role in roles if scope_for(role, action_name) == Scope.ALL]
        lines.append(f"| `postloan {command}` | `{action_name}` | {', '.join(allowed)} |")
    lines += ["", "## Why", "", RATIONALE + "".join(a.rationale for a in _AREAS.values())]
    return "\n".join(lines)

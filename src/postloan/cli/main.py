"""`postloan` — the command line. Sub-commands live in their own modules."""

from __future__ import annotations

import typer

from postloan.cli import policy_cmd
from postloan.cli.access_cmd import audit_app, user_app
from postloan.cli.engine_cmd import demo, status
from postloan.cli.serve_cmd import serve
from postloan.cli.store_cmd import db_app, export, import_, run

app = typer.Typer(
    help="postloan — post-loan management (贷后管理): overdue, collections, churn, risk.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(policy_cmd.app, name="policy")
app.command()(demo)
app.command()(status)
app.add_typer(db_app, name="db")
app.command("import")(import_)
app.command()(run)
app.command()(export)
app.command()(serve)
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")


def main() -> None:
    app()

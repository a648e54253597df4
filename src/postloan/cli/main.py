"""`postloan` — the command line. Sub-commands live in their own modules."""

from __future__ import annotations

import typer

from postloan.cli import policy_cmd
from postloan.cli.engine_cmd import demo, status

app = typer.Typer(
    help="postloan — post-loan management (贷后管理): overdue, collections, churn, risk.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(policy_cmd.app, name="policy")
app.command()(demo)
app.command()(status)


def main() -> None:
    app()

"""`postloan` — the command line. Sub-commands live in their own modules."""

from __future__ import annotations

import os

import typer

from postloan import areas
from postloan.cli import model_cmd, policy_cmd, spark_cmd
from postloan.cli.access_cmd import audit_app, user_app
from postloan.cli.engine_cmd import demo, status
from postloan.cli.operator import USER_VAR
from postloan.cli.serve_cmd import serve
from postloan.cli.store_cmd import db_app, export, import_, run, runs_app


def _caller(
    as_: str | None = typer.Option(
        None,
        "--as",
        metavar="USERNAME",
        help="Sign in as this postloan user (password from POSTLOAN_PASSWORD or a prompt); "
        "the command then needs the user's role to allow it. Without it you are the local "
        "operator (docs/permissions.md).",
    ),
) -> None:
    if as_:
        os.environ[USER_VAR] = as_


def make_app() -> typer.Typer:
    """The `postloan` command: the core's commands, then every registered area's."""
    cli = typer.Typer(
        help="postloan — post-loan management (贷后管理): overdue, collections, churn, risk.",
        no_args_is_help=True,
        add_completion=False,
    )
    cli.callback()(_caller)
    cli.add_typer(policy_cmd.app, name="policy")
    cli.command()(demo)
    cli.command()(status)
    cli.add_typer(db_app, name="db")
    cli.command("import")(import_)
    cli.command()(run)
    cli.add_typer(runs_app, name="runs")
    cli.command()(export)
    cli.command()(serve)
    cli.add_typer(user_app, name="user")
    cli.add_typer(audit_app, name="audit")
    cli.add_typer(model_cmd.app, name="model")  # reads and writes only the files it is given
    cli.add_typer(spark_cmd.app, name="spark")  # files or tables in, Parquet out (no store)
    # `postloan report …` belongs to no one area: each adds its reports to the one group.
    report = typer.Typer(help="The business areas' reports.", no_args_is_help=True)
    for add_area_commands in areas.cli_hooks():  # the business areas' (postloan.areas)
        add_area_commands(cli, report)
    if report.registered_commands or report.registered_groups:
        cli.add_typer(report, name="report")
    return cli


app = make_app()


def main() -> None:
    app()

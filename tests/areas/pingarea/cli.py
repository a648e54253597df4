"""The ping area's command: `postloan ping` prints the stored marks."""

from __future__ import annotations

import typer
from sqlalchemy import select

from tests.areas.pingarea.tables import ping_marks


def ping(url: str = typer.Option(..., help="The store's URL.")) -> None:
    from postloan.store.db import engine_for

    engine = engine_for(url)
    with engine.connect() as conn:
        for row in conn.execute(select(ping_marks).order_by(ping_marks.c.as_of)):
            typer.echo(f"{row.as_of} {row.overdue_accounts}")
    engine.dispose()


def add_commands(app: typer.Typer, report: typer.Typer) -> None:
    app.command("ping")(ping)
    report.command("ping")(ping)

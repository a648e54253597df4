"""`postloan serve`: the REST API and the web workbench on one port."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from fastapi import FastAPI
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, select

console = Console()


def build_app(url: str) -> FastAPI:
    """The FastAPI app with the workbench pages mounted."""
    from postloan.api.app import create_app
    from postloan.web import mount

    app = create_app(url)
    mount(app, url)
    return app


def serve_app(url: str, host: str, port: int) -> None:
    import uvicorn

    console.print(f"Serving the workbench at [bold]http://{host}:{port}[/] (API docs at /docs)")
    uvicorn.run(build_app(url), host=host, port=port, log_level="warning")


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Serve the REST API (/api, OpenAPI at /docs) and the web workbench."""
    from postloan.access.permissions import Action
    from postloan.cli.operator import authorize
    from postloan.store.db import ready

    url = ready()
    authorize(url, Action.STORE_ADMIN, "serve")
    serve_app(url, host, port)


def demo_logins(url: str, collector_customers: int = 40) -> None:
    """Create one demo user per role, give the demo collector some overdue customers of the
    demo branch (cases do this from the collections issue on), and print the logins."""
    from postloan.access.demo import DEMO_BRANCH, create_demo_users
    from postloan.access.tables import assignments
    from postloan.access.users import get_user
    from postloan.store.db import engine_for
    from postloan.store.schema import account_status, customers

    engine = engine_for(url)
    with engine.begin() as conn:
        logins = create_demo_users(conn, datetime.now(UTC))
        collector = get_user(conn, "collector")
        latest = conn.execute(
            select(account_status.c.as_of).order_by(account_status.c.as_of.desc()).limit(1)
        ).scalar()
        overdue = conn.execute(
            select(account_status.c.customer_id)
            .join(customers, customers.c.customer_id == account_status.c.customer_id)
            .where(account_status.c.as_of == latest, account_status.c.dpd > 0,
                   customers.c.branch_id == DEMO_BRANCH)
            .distinct()
            .order_by(account_status.c.customer_id)
            .limit(collector_customers)
        ).scalars().all()  # fmt: skip
        already = set(
            conn.execute(
                select(assignments.c.customer_id).where(assignments.c.user_id == collector.user_id)
            ).scalars()
        )
        rows = [
            {"customer_id": c, "user_id": collector.user_id, "assigned_at": datetime.now(UTC)}
            for c in overdue
            if c not in already
        ]
        if rows:
            conn.execute(insert(assignments), rows)
    engine.dispose()
    table = Table(title="Demo logins (one per role)")
    for col in ("username", "password", "role", "branch"):
        table.add_column(col, overflow="fold", no_wrap=False)  # never cut a password short
    for username, password, role, branch in logins:
        table.add_row(username, password, role, branch or "head office")
    console.print(table)


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (several worker processes): the store from the env."""
    from postloan.store.db import ready

    return build_app(ready())

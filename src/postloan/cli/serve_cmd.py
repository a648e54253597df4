"""`postloan serve`: the REST API and the web workbench on one port.

The server does not name itself (no `server: uvicorn` header: what runs behind the port is
nobody's business), and the request body limits (`postloan.api.body_limit`) are checked before
it starts, so a mistyped setting stops it with a message rather than a traceback.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime

import typer
from fastapi import FastAPI
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from postloan.store.config import DATABASE_URL_VAR

console = Console()


def build_app(url: str) -> FastAPI:
    """The FastAPI app with the workbench pages mounted."""
    from postloan.api.app import create_app
    from postloan.web import mount

    app = create_app(url)
    mount(app, url)
    return app


def serve_app(url: str, host: str, port: int, workers: int = 1) -> None:
    """Serve `url`'s store; with `workers` > 1, that many server processes share the port
    (each runs Python on its own core: the 360° view is CPU-bound)."""
    import uvicorn

    from postloan.api.docs import docs_assets_missing
    from postloan.api.routes.auth import LIMITS_VAR

    console.print(f"Serving the workbench at [bold]http://{host}:{port}[/] (API docs at /docs)")
    if docs_assets_missing():
        console.print("[yellow]API docs not installed: run scripts/vendor_web_assets.py[/]")
    if workers <= 1:
        uvicorn.run(build_app(url), host=host, port=port, log_level="warning", server_header=False)
        return
    # The workers are new processes that build the app from the environment (`app_from_env`):
    # the store's URL, and one signing secret for sessions and CSRF tokens (a random secret
    # per process would make each worker reject the others' forms).
    os.environ[DATABASE_URL_VAR] = url
    os.environ.setdefault("POSTLOAN_WEB_SECRET", secrets.token_hex(32))
    # and one count of sign-in attempts: per-process limits would give a client N times each
    os.environ[LIMITS_VAR] = "shared"
    uvicorn.run(
        "postloan.cli.serve_cmd:app_from_env", factory=True, workers=workers, host=host,
        port=port, log_level="warning", server_header=False,
    )  # fmt: skip


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(
        1, min=1, max=64, help="Server processes (one per CPU core serves the most requests)."
    ),
    max_upload_mb: int | None = typer.Option(
        None,
        min=1,
        help="Largest contract file /api/imports accepts, in MB (default: "
        "POSTLOAN_MAX_UPLOAD_MB, else 512). Other requests: POSTLOAN_MAX_BODY_KB (1024).",
    ),
) -> None:
    """Serve the REST API (/api, OpenAPI at /docs) and the web workbench."""
    from postloan.access.permissions import Action
    from postloan.api.body_limit import UPLOAD_LIMIT_VAR, BodyLimits
    from postloan.cli.operator import authorize
    from postloan.store.db import ready

    if max_upload_mb is not None:  # through the environment: worker processes read it too
        os.environ[UPLOAD_LIMIT_VAR] = str(max_upload_mb)
    try:
        BodyLimits.from_env()
    except ValueError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    url = ready()
    authorize(url, Action.STORE_ADMIN, "serve")
    serve_app(url, host, port, workers)


def demo_staff(url: str) -> list[tuple[str, str, str, str | None]]:
    """One demo user per role (their logins are returned for printing) and a collection team
    per branch, before the demo's backfill: the run's allocation then gives the open cases to
    the collectors, the demo `collector` included (`collections.allocation`)."""
    from sqlalchemy import func

    from postloan.access.demo import create_demo_collectors, create_demo_users
    from postloan.store.db import engine_for
    from postloan.store.schema import customers

    engine = engine_for(url)
    with engine.begin() as conn:
        now = datetime.now(UTC)
        logins = create_demo_users(conn, now)
        by_branch: dict[str, int] = dict(
            conn.execute(
                select(customers.c.branch_id, func.count())
                .where(customers.c.branch_id.is_not(None))
                .group_by(customers.c.branch_id)
            ).all()
        )
        create_demo_collectors(conn, by_branch, now)
    engine.dispose()
    return logins


def print_logins(logins: list[tuple[str, str, str, str | None]]) -> None:
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

"""The web workbench (工作台): server-rendered pages (Jinja2 + htmx, charts by Apache ECharts).

    from postloan.api.app import create_app
    from postloan.web import mount
    app = create_app(url)
    mount(app)

`mount` adds the pages (`/login`, `/`, `/customers`, `/runs`, `/lang/{code}` …) and the
packaged static files at `/static` (htmx and ECharts are fetched into `static/vendor/` by
`scripts/vendor_web_assets.py`; nothing is loaded from a CDN). It uses the app's store engine
(`app.state.engine`, set by `create_app`) or, for a bare app, one made from `url`. Pages get
the same HTTP hardening as the API (`postloan.api.app.harden`: security headers with a CSP
that allows no inline script, no-store, the body limit, no internals in errors).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from postloan import areas
from postloan.api.app import harden
from postloan.web.routes import router
from postloan.web.security import init_secret

STATIC = Path(__file__).parent / "static"
VENDOR_FILES = ("htmx.min.js", "echarts.min.js")


def vendor_missing() -> list[str]:
    """Vendored JavaScript files not yet fetched (run scripts/vendor_web_assets.py)."""
    return [name for name in VENDOR_FILES if not (STATIC / "vendor" / name).is_file()]


def mount(app: FastAPI, url: str | None = None) -> None:
    """Add the workbench's routes and `/static` to `app`."""
    if getattr(app.state, "engine", None) is None:
        from postloan.store.db import engine_for, ready

        app.state.url = ready(url or getattr(app.state, "url", None))
        app.state.engine = engine_for(app.state.url)
    init_secret(app)
    harden(app)  # a no-op on create_app's app, which has it already
    app.include_router(router)
    for area_router in areas.web_routers():  # the business areas' pages (postloan.areas)
        app.include_router(area_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")


__all__ = ["mount", "vendor_missing"]

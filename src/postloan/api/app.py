"""The REST API of postloan (FastAPI; OpenAPI at /docs and /openapi.json).

    from postloan.api.app import create_app
    app = create_app()            # the configured store (POSTLOAN_DATABASE_URL or data/)
    uvicorn.run(app)

The app holds the store URL (`app.state.url`) and one SQLAlchemy engine; whole-portfolio work
(imports, runs) goes through the existing services, which use ADBC.

Every request passes `harden` (api.middleware, api.body_limit): security headers, a request
id, a body limit checked before reading, and no internals in unexpected failures. The docs
(/docs) come from the package (api.docs), not a CDN.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

import postloan
from postloan import areas
from postloan.api import docs
from postloan.api.body_limit import BodyLimit, BodyLimits
from postloan.api.csrf import init_secret
from postloan.api.errors import install_error_handlers
from postloan.api.middleware import HttpGuard
from postloan.api.routes import accounts, auth, customers, imports, policy, runs
from postloan.api.runs_tracker import RunTracker
from postloan.store.db import engine_for, ready
from postloan.views import cache as view_cache

DESCRIPTION = """\
Post-loan management (贷后管理): customers' 360° view, account status, imports, daily runs and
the policy.

Authenticate with `POST /api/auth/login`, then send `Authorization: Bearer <token>` (pages use
the HttpOnly session cookie). Every route checks the permission matrix (`docs/permissions.md`);
customers outside the user's data scope answer 404. Personal data is masked per role; a full
value needs `POST /api/customers/{id}/reveal` with a reason, which is audited.

Errors are always `{"error": {"code", "message", "field"}}`; amounts are strings with 2
decimals, dates ISO 8601.
"""


def create_app(url: str | None = None, policy_path: str | Path | None = None) -> FastAPI:
    """The API over the store at `url` (default: the configured store, migrated).

    `policy_path` is where `PUT /api/policy` writes the policy (default: `POSTLOAN_POLICY`,
    else `<data dir>/policy.toml`)."""
    app = FastAPI(
        title="postloan",
        version=getattr(postloan, "__version__", "0.1.0"),
        description=DESCRIPTION,
        lifespan=_lifespan,
        # FastAPI's own pages load Swagger UI / ReDoc from a CDN with inline scripts: ours
        # (api.docs) serve the packaged copy; ReDoc is not offered.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.url = ready(url)
    app.state.engine = engine_for(app.state.url)
    # Connections for code that runs on the event loop itself (authentication, the 360° view;
    # see api.deps): the loop holds at most one at a time, so a pool of its own never waits on
    # connections held by routes in the thread pool.
    app.state.loop_engine = engine_for(app.state.url, pool_size=2, max_overflow=0, pool_timeout=5)
    app.state.policy_path = Path(policy_path) if policy_path else None
    app.state.runs = RunTracker()
    app.state.views = view_cache.from_env()  # finished 360° ledger views (views.cache)
    app.state.lock = threading.Lock()
    app.state.import_pool = None  # a worker process, started by the first upload
    init_secret(app)  # CSRF tokens for cookie-authenticated writes (api.csrf)
    install_error_handlers(app)
    harden(app)
    app.include_router(auth.router)
    for router in areas.api_routers():  # the business areas' routes (postloan.areas)
        app.include_router(router)
    for module in (customers, accounts, imports, runs, policy):
        app.include_router(module.router)
    app.include_router(docs.router)
    return app


def harden(app: FastAPI, limits: BodyLimits | None = None) -> None:
    """Wrap `app` (once) in the body limit and, outside it, the HTTP guard — so the guard's
    headers are on the limit's 413 too. Limits default to the environment's (api.body_limit)."""
    if getattr(app.state, "hardened", False):
        return
    app.add_middleware(BodyLimit, limits=limits or BodyLimits.from_env())
    app.add_middleware(HttpGuard)  # added last: the outermost of ours
    app.state.hardened = True


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Everything loaded so far (modules, schema, the app) lives as long as the process: keep it
    # out of the cyclic garbage collector's scans, which otherwise walk it on every full pass.
    gc.freeze()
    yield
    app.state.runs.join(timeout=60)
    if app.state.import_pool is not None:
        app.state.import_pool.shutdown()
        app.state.import_pool = None
    app.state.engine.dispose()
    app.state.loop_engine.dispose()

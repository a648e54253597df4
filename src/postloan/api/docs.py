"""The API docs (Swagger UI at /docs) served from the package, never from a CDN.

FastAPI's default /docs page loads Swagger UI from a CDN (it fails on a closed network and
lets a third party run script on our origin) and starts it with an inline script (which the
Content-Security-Policy forbids). Here the page references only files of this server: Swagger
UI's bundle and stylesheet, fetched from the npm registry with their integrity checked by
`scripts/vendor_web_assets.py` into `web/static/vendor/`, and `web/static/api-docs.js`, which
starts it. ReDoc (another CDN page) is not offered.

"Try it out" runs in the browser: with a bearer token (Authorize) as any API client, or with
the session cookie of a signed-in workbench user — then the page's CSRF token, which it
carries in a meta tag, goes with each request, as the API asks of cookie-authenticated writes.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from postloan.api.csrf import csrf_token
from postloan.api.deps import SESSION_COOKIE
from postloan.api.errors import NotFound

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"
# What /docs/assets/ serves: a fixed list, never a path taken from the URL.
ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (STATIC / "vendor" / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (STATIC / "vendor" / "swagger-ui.css", "text/css"),
    "api-docs.js": (STATIC / "api-docs.js", "text/javascript"),
}

router = APIRouter(include_in_schema=False)


def docs_assets_missing() -> list[str]:
    """Docs files not installed (run scripts/vendor_web_assets.py)."""
    return [name for name, (path, _) in ASSETS.items() if not path.is_file()]


def docs_page(title: str, openapi_url: str, csrf: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{escape(title)} · API</title>
  <meta name="postloan-openapi" content="{escape(openapi_url)}">
  <meta name="postloan-csrf" content="{escape(csrf)}">
  <link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>
  <script src="{ASSETS_URL}/api-docs.js"></script>
</body>
</html>
"""


@router.get(DOCS_URL, response_class=HTMLResponse)
def swagger_ui(request: Request) -> Response:
    missing = docs_assets_missing()
    if missing:
        return HTMLResponse(
            "<!doctype html><title>API docs not installed</title><p>The API docs' files are "
            f"not installed ({escape(', '.join(missing))}): run "
            "<code>python scripts/vendor_web_assets.py</code>. The schema is at "
            '<a href="/openapi.json">/openapi.json</a>.</p>',
            status_code=503,
        )
    session = request.cookies.get(SESSION_COOKIE)
    csrf = csrf_token(request.app, session) if session else ""
    openapi_url = request.app.openapi_url or "/openapi.json"
    return HTMLResponse(docs_page(request.app.title, openapi_url, csrf))


@router.get(ASSETS_URL + "/{name}")
def docs_asset(name: str) -> Response:
    entry = ASSETS.get(name)
    if entry is None or not entry[0].is_file():
        raise NotFound(f"no API docs file {name!r}")
    path, media_type = entry
    return FileResponse(path, media_type=media_type)

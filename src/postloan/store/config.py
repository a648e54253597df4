"""Which database: `POSTLOAN_DATABASE_URL` (an SQLAlchemy URL), else the embedded SQLite file."""

from __future__ import annotations

import os
from pathlib import Path

DATABASE_URL_VAR = "POSTLOAN_DATABASE_URL"
DATA_DIR_VAR = "POSTLOAN_DATA_DIR"


def data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_VAR, "data"))


def database_url() -> str:
    url = os.environ.get(DATABASE_URL_VAR)
    if url:
        return url
    path = data_dir() / "postloan.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path.resolve()}"

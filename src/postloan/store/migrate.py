"""Apply the store's Alembic migrations; any command upgrades an empty database itself."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    """The core's revisions plus each registered area's own branch (`Area.migrations`: a
    folder of revisions whose first one has `branch_labels = ("<area>",)` and a core
    revision as `down_revision`: a branch from there, its own head beside the core's)."""
    from postloan import areas

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    folders = [MIGRATIONS / "versions", *areas.migration_folders()]
    cfg.set_main_option("version_locations", " ".join(str(f) for f in folders))
    cfg.set_main_option("path_separator", "space")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def head_revision() -> str:
    """The heads as one string (the core's revision, then areas' branches), for messages."""
    return " ".join(sorted(head_revisions()))


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def current_revision(engine: Engine) -> str:
    return " ".join(sorted(current_revisions(engine)))


def upgrade(engine: Engine) -> bool:
    """Bring the database to the latest schema of the core and every registered area;
    returns True when anything was applied."""
    if current_revisions(engine) == head_revisions():
        return False
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
        conn.commit()
    return True

"""Reading and writing policy files (TOML).

`default_policy()` parses the packaged ``default_policy.toml`` once; `load_policy(path)` reads
any policy file; `policy_in_force()` is the one policy every entry point uses (CLI run, report
and demo, the API, the workbench, run workers): the file named by ``POSTLOAN_POLICY``, else
``<data dir>/policy.toml`` (where ``PUT /api/policy`` writes it) when it exists, else the
packaged default. Every failure is a `PolicyError` whose problems name the parameter.
"""

from __future__ import annotations

import os
import threading
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from postloan.policy.errors import (
    PolicyError,
    PolicyFileError,
    Problem,
    problems_from_validation_error,
)
from postloan.policy.model import Policy

POLICY_ENV_VAR = "POSTLOAN_POLICY"
DEFAULT_POLICY_FILE = "default_policy.toml"
POLICY_FILE_NAME = "policy.toml"  # in the data dir: the policy replaced through the API
PACKAGED_DEFAULT = "packaged default policy"


def policy_from_dict(data: Any, source: str | None = None) -> Policy:
    """Validate already-parsed policy data (e.g. TOML or JSON loaded elsewhere)."""
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(problems_from_validation_error(exc), source) from None


def parse_policy(text: str, source: str | None = None) -> Policy:
    """Parse and validate the text of a TOML policy."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already says "(at line L, column C)".
        raise PolicyError([Problem("(TOML syntax)", str(exc))], source) from None
    return policy_from_dict(data, source)


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read and validate a TOML policy file."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise PolicyFileError(
            [Problem("(file)", f"cannot read {source}: {reason}")], source
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(
            [Problem("(file)", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")],
            source,
        ) from None
    return parse_policy(text, source)


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The packaged default policy (parsed once)."""
    text = resources.files("postloan.policy").joinpath(DEFAULT_POLICY_FILE).read_text("utf-8")
    return parse_policy(text, DEFAULT_POLICY_FILE)


@dataclass(frozen=True)
class PolicyInForce:
    """A policy, where it came from (a file path or `PACKAGED_DEFAULT`) and its version."""

    policy: Policy
    source: str
    version: str


def policy_file() -> Path:
    """Where the policy in force lives (and where the API writes a replacement): the file named
    by ``POSTLOAN_POLICY``, else ``policy.toml`` in the data dir (``POSTLOAN_DATA_DIR``)."""
    from postloan.store.config import data_dir  # the store's folder; a leaf module

    named = os.environ.get(POLICY_ENV_VAR)
    return Path(named) if named else data_dir() / POLICY_FILE_NAME


_cache_lock = threading.Lock()
_loaded: dict[Path, tuple[tuple[int, int, int], PolicyInForce]] = {}


def policy_at(path: Path) -> PolicyInForce:
    """The policy in the file at `path`, or the packaged default while there is no such file.

    A file is parsed again only when its inode, modification time or size changes (a replace by
    another process included): parsing and validating on every request cost about as much as
    a whole 360° view, and the version hash is computed once per load."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        policy = default_policy()
        return PolicyInForce(policy, PACKAGED_DEFAULT, _default_version())
    stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)  # a replace is a new inode
    with _cache_lock:
        known = _loaded.get(path)
    if known is None or known[0] != stamp:
        policy = load_policy(path)
        known = (stamp, PolicyInForce(policy, str(path), policy.version))
        with _cache_lock:
            _loaded[path] = known
    return known[1]


@lru_cache(maxsize=1)
def _default_version() -> str:
    return default_policy().version


def policy_in_force() -> PolicyInForce:
    """The policy in force for every entry point (module doc), with its source and version."""
    return policy_at(policy_file())


def current_policy() -> Policy:
    """The policy in force (`policy_in_force`)."""
    return policy_in_force().policy


def dump_policy_toml(policy: Policy) -> str:
    """The effective policy as TOML that `parse_policy` reads back to the same version."""
    # JSON mode turns Decimal and time into strings the model accepts back; TOML has no null,
    # and every nullable setting means "not set" when omitted.
    data = policy.model_dump(mode="json", exclude_none=True)
    header = f"# postloan policy, version {policy.version}\n\n"
    return header + tomli_w.dumps(data)

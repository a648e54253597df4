"""Reading and writing policy files (TOML).

`default_policy()` parses the packaged ``default_policy.toml`` once; `load_policy(path)` reads
any policy file; `current_policy()` honours ``POSTLOAN_POLICY``. Every failure is a
`PolicyError` whose problems name the parameter.
"""

from __future__ import annotations

import os
import tomllib
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


def current_policy() -> Policy:
    """The policy in force: the file named by ``POSTLOAN_POLICY`` if set, else the default."""
    path = os.environ.get(POLICY_ENV_VAR)
    return load_policy(path) if path else default_policy()


def dump_policy_toml(policy: Policy) -> str:
    """The effective policy as TOML that `parse_policy` reads back to the same version."""
    # JSON mode turns Decimal and time into strings the model accepts back; TOML has no null,
    # and every nullable setting means "not set" when omitted.
    data = policy.model_dump(mode="json", exclude_none=True)
    header = f"# postloan policy, version {policy.version}\n\n"
    return header + tomli_w.dumps(data)

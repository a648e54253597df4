"""Shared fixtures: the packaged default policy as plain data, ready to be spoiled."""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from typing import Any

import pytest

_DEFAULT_TEXT = (
    resources.files("postloan.policy").joinpath("default_policy.toml").read_text("utf-8")
)


@pytest.fixture
def default_text() -> str:
    """The packaged default policy file, verbatim."""
    return _DEFAULT_TEXT


@pytest.fixture
def default_data() -> dict[str, Any]:
    """A fresh, mutable copy of the default policy as parsed TOML."""
    return copy.deepcopy(tomllib.loads(_DEFAULT_TEXT))

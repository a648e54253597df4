"""Argon2id password hashes (argon2-cffi, its recommended parameters) and what a new password
must be: long enough, and not a common password, the username or the product's name with a
few digits or symbols around them (the checks NIST SP 800-63B asks for instead of
composition rules)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib.resources import files
from itertools import pairwise

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from postloan.access.errors import WeakPassword

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # the API's limit too; Argon2 hashes any length at the same cost
MIN_DISTINCT_CHARACTERS = 5  # "aaaaaaaaaa", "ababababab" are long but guessed first
PRODUCT_NAME = "postloan"

HASHER = PasswordHasher()

# Letters people swap for look-alike digits and symbols (p@ssw0rd); undone before comparing.
_LOOKALIKES = str.maketrans({"@": "a", "4": "a", "3": "e", "1": "i", "!": "i", "0": "o",
                             "$": "s", "5": "s", "7": "t", "+": "t"})  # fmt: skip
# What people put before and after a weak word: digits and separators (a leading @ or $ is
# kept, it is usually a letter in disguise: @dmin, $uperman) …
_LEADING = re.compile(r"^[\d\s_\-.,;:!?#%^&*~'\"/\\|=+()\[\]{}<>]+")
# … and digits and any symbol after it (admin@2026, password123!).
_TRAILING = re.compile(r"[\d\W_]+$")
_NOT_LETTERS = re.compile(r"[^a-z]+")


@cache
def common_passwords() -> frozenset[str]:
    """The deny list shipped with the package (`common_passwords.txt`, lower case)."""
    text = files("postloan.access").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _cores(text: str) -> set[str]:
    """The word a password or username is built on: lower case, without the digits and
    symbols around it, look-alikes undone; also with everything but letters removed."""
    lowered = unicodedata.normalize("NFKC", text).lower().strip()
    stripped = _TRAILING.sub("", _LEADING.sub("", lowered))
    core = _TRAILING.sub("", _LEADING.sub("", stripped.translate(_LOOKALIKES)))
    found = {core, stripped, _NOT_LETTERS.sub("", core)}
    return {c for c in found if c}


def _simple_digits(text: str) -> bool:
    """Digits only, and one digit repeated or a run up or down (1111…, 1234…, 9876…)."""
    if not text.isdigit() or len(text) < 2:
        return False
    steps = {(int(b) - int(a)) % 10 for a, b in pairwise(text)}
    return len(steps) == 1 and steps <= {0, 1, 9}


def weakness(password: str, username: str | None = None) -> str | None:
    """Why `password` may not be used (for `username`), or None when it may."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password has at most {MAX_PASSWORD_LENGTH} characters"
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        return f"a password needs at least {MIN_DISTINCT_CHARACTERS} different characters"
    lowered = unicodedata.normalize("NFKC", password).lower()
    cores = _cores(password)
    common = common_passwords()
    if lowered in common or cores & common:
        return "this password is one of the most common ones (or one with digits added)"
    letters, digits = _NOT_LETTERS.sub("", lowered), re.sub(r"\D", "", lowered)
    if len(letters) < 4 and _simple_digits(digits):  # a1234567890, xy00000000
        return "a password needs more than a run of digits"
    if username:
        name = username.strip().lower()
        names = _cores(name) | {name, name[::-1]}
        if cores & names:
            return "a password must not be the username with digits or symbols added"
    if cores & {PRODUCT_NAME, PRODUCT_NAME[::-1]}:
        return f"a password must not be {PRODUCT_NAME!r} with digits or symbols added"
    return None


def check_strength(password: str, username: str | None = None) -> None:
    reason = weakness(password, username)
    if reason is not None:
        raise WeakPassword(reason)


def hash_password(password: str, username: str | None = None) -> str:
    """The hash of a new password, after `check_strength`."""
    check_strength(password, username)
    return HASHER.hash(password)


def rehash(password: str) -> str:
    """A fresh hash of a password that just verified (outdated parameters): no strength
    check — a password chosen under older rules must not stop its owner signing in."""
    return HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return HASHER.check_needs_rehash(password_hash)


# Verified against when the username is unknown, so both failures cost the same time.
DUMMY_HASH = HASHER.hash("postloan-no-such-user")

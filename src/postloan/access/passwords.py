"""Argon2id password hashes (argon2-cffi, its recommended parameters)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from postloan.access.errors import WeakPassword

MIN_PASSWORD_LENGTH = 8

HASHER = PasswordHasher()


def check_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    check_strength(password)
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

"""Stores for the collections tests: the store tests' factory (SQLite, and PostgreSQL when
POSTLOAN_TEST_DATABASE_URL is set)."""

from tests.store.conftest import make_store  # noqa: F401

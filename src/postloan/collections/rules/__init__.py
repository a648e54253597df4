"""Collections' decision rules, pure: polars frames or dataclasses in and out — no SQL, no HTTP,
no clock (`as_of` / `now` are arguments). One module per subject; the module of the same name
one level up reads and writes the store and calls these (an import-linter contract keeps them
free of the store, the shells and SQLAlchemy). Tested without a database in `tests/collections`.
"""

MAX_AMOUNT = 10**15  # minor units: far above any claim, far below BIGINT

"""The store (数据库): lenders' data and postloan's results, on SQLite or PostgreSQL.

- `config.database_url()` — `POSTLOAN_DATABASE_URL`, else an SQLite file in the data folder.
- `schema` — SQLAlchemy tables; `migrate.upgrade()` applies the Alembic migrations.
- `bulk` — Arrow-native bulk reads and writes (ADBC) for whole portfolios.
"""

"""The daily engine on Apache Spark (issue 17; `docs/scale-out.md`).

The engine (`postloan.engine`) is pure and its partitions are independent; this package makes
Spark distribute them. Contract inputs (Parquet from `postloan export`, or Spark/Hive tables
named in a small TOML file) are read by Spark, every row is tagged with its account's customer,
the rows are hash-partitioned by customer and each partition goes through the *same* engine code
as Arrow batches (`mapInArrow`: a whole partition per Python call, never a row-by-row UDF).
Account status (and instalment/statement status when asked) is written as Parquet partitioned
by `as_of`, the policy version in the files' schema metadata and in a `_postloan_run.json`
manifest; `postloan import account-status` hands it back to the store.

- `task`: what runs on an executor — Arrow batches in, the engine, Arrow batches out (no
  pyspark import; unit-testable without Spark);
- `job`: the Spark side — session, inputs, partitioning, writing, stage timings, progress;
- `output`: reading what a run wrote (the policy version in the metadata, the rows), used by
  the hand-back and the tests, without Spark.

Only this package imports pyspark (an import-linter contract), and the engine never imports
this package.
"""

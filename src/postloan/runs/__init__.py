"""Daily runs and backfills: the engine over the store, results written back atomically."""

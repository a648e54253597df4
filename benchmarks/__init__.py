"""postloan benchmarks: run with `./dev bench` (not part of the test run)."""

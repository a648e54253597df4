"""The `postloan` command."""

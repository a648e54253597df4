"""Tiering's pure rules: polars frames and a Policy in, frames out (no SQL, HTTP or clock)."""

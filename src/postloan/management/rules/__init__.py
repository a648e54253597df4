"""The pack's arithmetic: polars frames and the policy in, frames out — no SQL, no clock."""

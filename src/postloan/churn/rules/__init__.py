"""Churn's pure rules: frames and dataclasses in and out — no SQL, no HTTP, no clock."""

"""Risk's pure rules: polars frames and policy sections in, frames out — no SQL, HTTP or clock
(an import-linter contract: "Risk rules are pure")."""

"""The relationship area's pure rules: dataclasses and plain values in and out — no SQL, HTTP
or clock (`as_of` is an argument). Covered by the import-linter contract "Relationship rules
are pure"."""

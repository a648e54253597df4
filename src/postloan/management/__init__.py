"""Management reporting (考核与监控报表, issue 16): the portfolio pack, its drill-down, exports
and dashboards, from the stored account status (docs/management.md)."""

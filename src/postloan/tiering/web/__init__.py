"""Tiering's workbench pages (mounted by name from `Area.web_routers` / `customer_panel`)."""

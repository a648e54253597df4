"""Risk's workbench pages (mounted by name: `Area.web_routers`, `Area.customer_panel`)."""

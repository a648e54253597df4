"""The relationship area's workbench pages (mounted by name: `Area.web_routers`)."""

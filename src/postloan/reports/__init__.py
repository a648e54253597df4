"""Reports over account status: summaries now; KPIs, roll rates and vintages later."""

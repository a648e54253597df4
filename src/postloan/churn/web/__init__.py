"""Churn's workbench pages (shells of the area): the pool (`pool`), the churn card on the
customer's 360° page and its own page with the officer's reason confirmation (`card`), and the
KPIs (`kpis`); what they share in `common`."""

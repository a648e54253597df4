"""Churned-customer management (流失客户管理, SPEC CH-1 … CH-7, seed 000) as a business area:
identification, the pool, degree, grade and reason, export, KPIs, API (`churn.area`)."""

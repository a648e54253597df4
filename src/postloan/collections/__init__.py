"""Overdue management and collections (逾期管理与催收): cases, reminders, contacts, promises,
agreements and legal action, built on each day's account status (issue 5; docs/architecture.md).
"""

"""The roles of the post-loan organisation. A user has exactly one role."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CREDIT_OFFICER = "credit_officer"  # 客户经理 / 信贷员 (branch)
    RISK_MANAGER = "risk_manager"  # 风险管理 (head office)
    LEGAL_OFFICER = "legal_officer"  # 法务 (head office)
    COLLECTOR = "collector"  # 催收员 (assigned customers only)
    COLLECTION_SUPERVISOR = "collection_supervisor"  # 催收主管 (branch)
    CUSTOMER_SERVICE = "customer_service"  # 客服 (branch)
    MARKETING = "marketing"  # 营销 (head office, masked data, consent-bound)
    MANAGER = "manager"  # 管理层 (head office, read only)
    AUDITOR = "auditor"  # 审计 (head office, read only + audit log)
    ADMIN = "admin"  # 系统管理员


HEAD_OFFICE_ROLES = frozenset(
    {
        Role.RISK_MANAGER,
        Role.LEGAL_OFFICER,
        Role.MANAGER,
        Role.AUDITOR,
        Role.ADMIN,
        Role.MARKETING,
    }
)
BRANCH_ROLES = frozenset({Role.CREDIT_OFFICER, Role.CUSTOMER_SERVICE, Role.COLLECTION_SUPERVISOR})

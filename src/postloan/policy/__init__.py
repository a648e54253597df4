"""The typed, versioned post-loan policy (贷后管理策略).

Every number the SPEC leaves open (`[X]`) is a parameter here with a default in the packaged
``default_policy.toml``. A policy's `version` is the sha256 of its effective content and is
recorded with every result computed under it.

    from postloan.policy import default_policy, load_policy
    policy = default_policy()
    policy.bucket_for(45)                # "M2"
    policy.risk_class_for(95, "loan")    # "substandard"
"""

from postloan.policy.errors import PolicyError, PolicyFileError, Problem
from postloan.policy.jurisdiction import JurisdictionRules
from postloan.policy.loader import (
    POLICY_ENV_VAR,
    current_policy,
    default_policy,
    dump_policy_toml,
    load_policy,
    parse_policy,
    policy_from_dict,
)
from postloan.policy.model import (
    AccountType,
    Allocation,
    Churn,
    ClassFloors,
    Classification,
    Collections,
    CollectionStage,
    Contact,
    DpdBucket,
    Policy,
    Reminders,
    RiskClass,
    canonical_json,
)

__all__ = [
    "POLICY_ENV_VAR",
    "AccountType",
    "Allocation",
    "Churn",
    "ClassFloors",
    "Classification",
    "CollectionStage",
    "Collections",
    "Contact",
    "DpdBucket",
    "JurisdictionRules",
    "Policy",
    "PolicyError",
    "PolicyFileError",
    "Problem",
    "Reminders",
    "RiskClass",
    "canonical_json",
    "current_policy",
    "default_policy",
    "dump_policy_toml",
    "load_policy",
    "parse_policy",
    "policy_from_dict",
]

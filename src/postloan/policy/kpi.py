"""Collection KPI settings (KPI-1): what a contact costs, for the collection cost ratio."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator

from postloan.policy.base import Section


class Kpi(Section):
    """Unit costs of collection work; legal costs are recorded per matter
    (collections.legal_matters)."""

    contact_costs: dict[str, Decimal] = Field(
        description="Internal cost of one contact per channel (phone, sms, letter, visit, email),"
        " in the currency's major unit; channels left out cost nothing."
    )

    @field_validator("contact_costs", mode="before")
    @classmethod
    def _exact(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: Decimal(str(v)) for k, v in value.items()}
        return value

    @field_validator("contact_costs")
    @classmethod
    def _known_non_negative(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        known = ("phone", "sms", "letter", "visit", "email")
        for channel, cost in value.items():
            if channel not in known:
                raise ValueError(f"{channel}: not a contact channel ({', '.join(known)})")
            if cost < 0 or cost != cost.quantize(Decimal("0.01")):
                raise ValueError(f"{channel}: a cost is >= 0 with at most 2 decimals")
        return value

"""Building blocks shared by every policy table: strict scalars and the section base."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Strict scalars: a count never accepts "3", 3.0 or true.
Count = Annotated[int, Field(strict=True, ge=0)]
PositiveCount = Annotated[int, Field(strict=True, ge=1)]


class Section(BaseModel):
    """Base for every policy table: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

"""Tiering's daily-run step: after collections has rebuilt its cases (an open case is a floor
of the tier) and churn has identified (nothing read from it in the step, but the review reads
both for the same dates)."""

from __future__ import annotations

from postloan.area import Step
from postloan.tiering.service import run_tiering

STEPS: tuple[Step, ...] = (Step("tiering.assign", run_tiering, after=("collections.cases",)),)

"""Churn's daily-run steps (`postloan.area.Step`): identification, grading and the pool
(`churn.service`). It reads only account status and the input data, so it runs right after
account status is stored, beside collections' steps."""

from __future__ import annotations

from postloan.area import Step
from postloan.churn.measures import run_measures
from postloan.churn.service import run_churn

STEPS: tuple[Step, ...] = (
    Step("churn.identify", run_churn),
    # Measures per grade (CH-6) from the pool's episodes and grades: after identification.
    Step("churn.measures", run_measures, after=("churn.identify",)),
)

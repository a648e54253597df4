"""The registry itself: an area that is not registered leaves no trace, and the daily-run
steps are ordered by what each runs after."""

from __future__ import annotations

from pathlib import Path

import pytest

from postloan import areas
from postloan.access.permissions import scope_for
from postloan.area import Step, StepOrderError, order_steps
from postloan.store.db import ready


def test_an_unregistered_area_is_gone(tmp_path: Path) -> None:
    """Not registered (the ping area is only inside its tests' `with`): no route, no action,
    no step — the registry really drives them."""
    assert "ping" not in {area.name for area in areas.areas()}
    assert "ping.marks" not in [step.name for step in areas.daily_steps()]
    with pytest.raises(ValueError):
        scope_for("manager", "ping.view")
    from postloan.api.app import create_app

    app = create_app(ready(f"sqlite:///{tmp_path / 'bare.sqlite'}"))
    assert "/api/ping/marks" not in app.openapi()["paths"]


def test_step_order_errors_name_the_steps() -> None:
    def noop(ctx: object) -> None:
        return None

    with pytest.raises(StepOrderError, match=r"x\.a"):
        order_steps([Step("x.a", noop, after=("x.missing",))])
    with pytest.raises(StepOrderError, match="wait on each other"):
        order_steps([Step("x.a", noop, after=("x.b",)), Step("x.b", noop, after=("x.a",))])
    ordered = order_steps([Step("x.b", noop, after=("x.a",)), Step("x.a", noop)])
    assert [s.name for s in ordered] == ["x.a", "x.b"]

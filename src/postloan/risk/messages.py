"""Risk's workbench messages, zh-CN and English with the same keys
(`tests/web/test_messages.py`)."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "nav.risk_watch": "预警与关注名单",
        "nav.risk_backtest": "预警回测",
    },
    "en": {
        "nav.risk_watch": "Warnings & watch list",
        "nav.risk_backtest": "Warning back-test",
    },
}

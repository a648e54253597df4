"""Risk assessment and early warning (风险评估与预警, SPEC RK-1, EW-1; issue 13): the weighted
indicator score per customer per date with officers' overrides, the early-warning signals,
their tasks and the watch list, and the back-test of every signal on stored history."""

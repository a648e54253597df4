"""Customer relationship maintenance (客户关系维护, issue 15): complaints and their clock,
hardship plans, loyalty points, satisfaction surveys. See docs/relationship.md."""

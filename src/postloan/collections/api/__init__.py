"""Collections' REST API: one router per module, each named in the area's declaration
(`collections.area`: `api_routers`) and mounted by the API shell (`postloan.api.app`), which
the area never imports as a whole. A module is what it serves:

- `tasks`: the work queue, a reminder marked sent (`/api/collections/tasks`);
- `contacts`: the contact policy's check, recording a contact (`/api/collections/contacts`);
- `reports`: the weekly compliance report and the KPIs of a period (`/api/collections/...`);
- `cases`: the case list with collector, strategy and rating, reassignment and its log;
- `alerts`: risk alerts and their acknowledgement;
- `strategies`: champion vs challenger results;
- `legal`: legal proposals and matters (`/api/legal`); `disposals`: write-off and asset
  disposal (`/api/legal/disposals`);
- `agreements`: repayment agreements, maker-checker (`/api/agreements`).

They read through the area's services and read models (`collections.queries`, shared with the
workbench pages), check scope with `access.scope` (a record outside it: 404) and let
`api.errors` map the domain errors.
"""

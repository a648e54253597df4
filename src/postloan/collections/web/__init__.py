"""Collections' workbench pages: one router per page module, each named in the area's
declaration (`collections.area`: `web_routers`) and mounted by the workbench (`postloan.web`).
Pages go through the workbench's public helpers (`postloan.web.pages`: gates, rendering in the
frame, the 404 page) and the area's read models (`collections.queries`, shared with the API);
templates are the area's (`collections/templates/collections/*.html`).

- `work`: my queue (`/work`) and a reminder marked sent;
- `case_page`: the case page (`/cases/{customer}`) and its contact form (`contact_form`: the
  fields checked; `case_view`: the page's read model and timeline); `agreements`: propose,
  approve, reject, withdraw on it;
- `allocation`: open cases by collector, reassignment and its log (`/allocation`);
- `legal`: proposals and matters (`/legal`); `kpis`: the KPI page with charts (`/kpis`);
- `forms`: what the pages share (form fields, the local zone, back-to-page and refusal answers,
  a service call's refusal as a status).

Each page and form checks the permission matrix (no permission: 403) and the data scope of its
action (`access.scope`: a customer, task, agreement or matter outside it is the 404 page, like
the API). Every POST needs the CSRF token. The writing is the services' (`postloan.collections`),
which audit it. POST handlers read the form on the event loop, then do their database work in
the thread pool, so the loop never waits on a query.
"""

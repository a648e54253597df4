"""The pack's stored month totals (issue 16 item 7): the daily run's `management.totals` step
stores, for each month-end (a month's last stored date) from the run's first month on, the
sums the pack is assembled from (`service.Parts`), computed set-based from that month-end's
and the previous month-end's status; a whole-book pack then reads one row per month-end
instead of every account's status on every month-end (`load`, called by `service.build`).

What a month's totals hold, and why they equal what the pack computes from the status: they
are the frames `stream.month` computes for the month-end (the pack from the status is built
from the same frames, for every month-end of the history in one walk, `stream.parts`):
- the sums per dimension value (`rules.aggregates`) of the month-end, with the "ever" flags
  from the accounts that met each "ever" numerator on an earlier month-end;
- the roll cells and recoveries of the pair (previous month-end → this one), the month's
  disbursement, dormant cards;
- the vintage hits: loans whose first month-end at DPD ≥ n is this one (the accounts at n+ on
  an earlier month-end are left out), and the cohorts' sizes;
- the card cycle-end definitions' sums of the month (`rules.cycle_figures`: each card on its
  last stored statement date in the month), when the policy has any;
- the run of the month-end's status rows (`status_run_id`: a date's rows are one run's), and
  the other areas' figures of the month (whole book).
A run stores its months in order, carrying the walk's state from one to the next; the state
for its first month is read from the store once (`_seed`: the previous month-end's rows and
one SQL `DISTINCT` per "ever" definition and per vintage threshold over the earlier ones).
A test builds every pack both ways and compares them frame by frame.

The totals are derived data, rebuilt by every run from its first month on (delete-then-insert:
idempotent) and ignored by a pack whose month-ends differ (a month with a later date stored
without them) or whose policy changed what they depend on (`totals_key`): that pack is
computed from the status. The other areas' figures in them are as of the run that stored
the month (a complaint recorded later for that month is not in them). Frames are stored as
Parquet inside one binary column with a JSON header (offsets): no pickle, nothing to import.
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, delete, insert, select, true

from postloan.area import StepContext
from postloan.management import queries, service, stream
from postloan.management.rules import pack as rules
from postloan.management.tables import management_month_totals
from postloan.policy import Policy
from postloan.store.schema import account_status
from postloan.store.values import stored_date

T = management_month_totals.c
S = account_status.c
FRAMES = ("sums", "roll", "back", "disbursed", "dormant", "hits", "sizes", "areas", "cycle")


def totals_key(policy: Policy) -> str:
    """A hash of what the totals depend on in the policy and the code's breakdowns."""
    m = policy.management
    text = json.dumps(
        {
            "kpis": {k: d.model_dump(mode="json") for k, d in m.kpis.items()},
            "buckets": [b.model_dump(mode="json") for b in policy.dpd_buckets],
            "vintage_dpd": m.vintage_dpd,
            "dormant_months": m.dormant_months,
            "term_bands": m.term_bands,
            "dimensions": rules.DIMENSIONS,
            "format": 1,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _pack_frames(frames: dict[str, pl.DataFrame], meta: dict[str, Any]) -> bytes:
    offsets: dict[str, list[int]] = {}
    body = io.BytesIO()
    for name, frame in frames.items():
        buffer = io.BytesIO()
        # Sorted: the same sums give the same bytes whatever order the group-bys came in.
        frame.sort(frame.columns, nulls_last=True).write_parquet(buffer)
        data = buffer.getvalue()
        offsets[name] = [body.tell(), len(data)]
        body.write(data)
    header = json.dumps({"offsets": offsets, "meta": meta}, ensure_ascii=False).encode("utf-8")
    return len(header).to_bytes(8, "big") + header + body.getvalue()


def _unpack_frames(blob: bytes) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    size = int.from_bytes(blob[:8], "big")
    header = json.loads(blob[8 : 8 + size].decode("utf-8"))
    body = blob[8 + size :]
    frames = {
        name: pl.read_parquet(io.BytesIO(body[start : start + length]))
        for name, (start, length) in header["offsets"].items()
    }
    return frames, header["meta"]


def _seed(
    conn: Connection, policy: Policy, inputs: stream.Inputs, earlier: list[date]
) -> stream.Carried:
    """The walk's state for the month-end after `earlier` (the history's month-ends before a
    run's first month), read from the store: the last of them with its dimensions, the accounts
    that met each "ever" numerator before it and those at DPD ≥ n on any of them."""
    m = policy.management
    previous = stream.attached(conn, conn, inputs, earlier[-1], true()) if earlier else None
    ever = queries.accounts_meeting(conn, queries.ever_clauses(m), earlier[:-1], true())
    reached = queries.accounts_meeting(
        conn, {f"_n{n}": S.dpd >= n for n in m.vintage_dpd}, earlier, true()
    )
    return stream.Carried(previous, ever, reached)


def store_months(
    conn: Connection, policy: Policy, first: date, run_id: int, now: datetime
) -> list[str]:
    """Drop the totals of `first`'s month on and store them again for every month-end from
    it (each month's last stored date), in order; returns the months written."""
    start = date(first.year, first.month, 1)
    conn.execute(delete(management_month_totals).where(T.as_of >= start))
    _, history = service._history(conn, date(2199, 12, 31))
    key = totals_key(policy)
    days = history["as_of"].to_list()
    todo = [i for i, day in enumerate(days) if day >= start]
    if not todo:
        return []
    scope = true()
    inputs = stream.inputs(conn, conn, policy, scope, days[-1])
    carried = _seed(conn, policy, inputs, days[: todo[0]])
    sizes = rules.vintage_sizes(inputs.loans)
    written: list[str] = []
    for i in todo:
        pair = history.slice(max(i - 1, 0), 2 if i else 1)
        found, runs, carried = stream.month(conn, conn, policy, inputs, scope, carried, pair)
        this = pair.tail(1)
        definitions, figures, left_out = service.area_figures(conn, policy, this, scope)
        frames = {name: found[name] for name in ("sums", "roll", "back", "disbursed", "dormant",
                                                 "hits")}  # fmt: skip
        frames |= {"sizes": sizes, "areas": figures}
        if "cycle" in found:
            frames["cycle"] = found["cycle"]
        month = this["month"][0]
        meta = {"month": month, "area_definitions": definitions, "left_out": left_out}
        conn.execute(
            insert(management_month_totals).values(
                as_of=days[i],
                month=month,
                totals_key=key,
                status_run_id=runs[-1] if runs else None,
                frames=_pack_frames(frames, meta),
                run_id=run_id,
                created_at=now,
            )
        )
        written.append(month)
    return written


def run_step(ctx: StepContext) -> dict[str, Any]:
    """The daily run's `management.totals` step (module doc)."""
    return {"months": store_months(ctx.conn, ctx.policy, ctx.first, ctx.run_id, ctx.now)}


def load(
    conn: Connection, policy: Policy, history: pl.DataFrame, months: pl.DataFrame
) -> service.Parts | None:
    """The pack's parts from the stored totals, or None when they do not cover exactly the
    history's month-ends under this policy (the pack is then computed from the status)."""
    rows = conn.execute(
        select(T.as_of, T.totals_key, T.frames, T.status_run_id).where(
            T.as_of <= history["as_of"].max()
        )
    ).all()
    stored = {stored_date(r.as_of): r for r in rows}
    key = totals_key(policy)
    wanted = history["as_of"].to_list()
    if sorted(stored) != wanted or any(r.totals_key != key for r in stored.values()):
        return None
    collected: dict[str, list[pl.DataFrame]] = {name: [] for name in FRAMES}
    runs, definitions, left_out = [], {}, []
    area_rows = [pl.DataFrame(schema=service.AREA_FIGURES)]
    months_wanted = set(months["month"].to_list())
    sizes = None
    for day in wanted:
        frames, meta = _unpack_frames(bytes(stored[day].frames))
        for name in stream.EVERY_MONTH:
            collected[name].append(frames[name])
        sizes = frames["sizes"]
        if meta["month"] in months_wanted:
            for name in stream.PACK_MONTHS:
                if name in frames:
                    collected[name].append(frames[name])
            area_rows.append(frames["areas"])
            runs.append({"month": meta["month"], "run_id": [stored[day].status_run_id]})
            definitions.update(meta["area_definitions"])
            left_out += [n for n in meta["left_out"] if n not in left_out]
    assert sizes is not None
    areas = pl.concat(area_rows, how="vertical_relaxed").sort("area", "kpi", "as_of", "dimension",
                                                              "value")  # fmt: skip
    return stream.combine(
        policy, collected, sizes, wanted[-1], runs, (definitions, areas, left_out)
    )

"""The pack's stored month totals (issue 16 item 7): the daily run's `management.totals` step
stores, for each month-end (a month's last stored date) from the run's first month on, the
sums the pack is assembled from (`service.Parts`), computed set-based from that month-end's
and the previous month-end's status; a whole-book pack then reads one row per month-end
instead of every account's status on every month-end (`load`, called by `service.build`).

What a month's totals hold, and why they equal what the pack computes from the status:
- the sums per dimension value (`rules.aggregates`) of the month-end: "ever" flags need the
  accounts' earlier month-ends — read as the set of accounts that met each "ever" numerator on
  a month-end before the previous one (one SQL `DISTINCT` each), the previous one being in the
  frame;
- the roll cells and recoveries of the pair (previous month-end → this one), the month's
  disbursement, dormant cards;
- the vintage hits: loans whose first month-end at DPD ≥ n is this one (the accounts at n+ on
  an earlier month-end, one `DISTINCT` per threshold, are left out), and the cohorts' sizes;
- the card cycle-end definitions' sums of the month (`rules.cycle_figures`: each card on its
  last stored statement date in the month), when the policy has any;
- the run of the month-end's status rows (`status_run_id`: a date's rows are one run's), and
  the other areas' figures of the month (whole book).
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
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection, delete, insert, select, true

from postloan.area import StepContext
from postloan.management import queries, service
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


def _ever_sets(
    conn: Connection, conditions: dict[str, Any], earlier: list[date]
) -> pl.DataFrame | None:
    """account_id and one boolean column per condition: met on some date of `earlier`."""
    if not conditions:
        return None
    out = pl.DataFrame(schema={"account_id": pl.String})
    for name, condition in conditions.items():
        found: list[str] = []
        if earlier:
            found = list(
                conn.execute(
                    select(S.account_id).where(S.as_of.in_(earlier), condition).distinct()
                ).scalars()
            )
        part = pl.DataFrame({"account_id": found}, schema={"account_id": pl.String})
        out = out.join(part.with_columns(pl.lit(True).alias(name)), on="account_id", how="full",
                       coalesce=True)  # fmt: skip
    return out


def _condition(definition: Any) -> Any:
    if definition.numerator == "dpd_at_least":
        return S.dpd >= definition.min_dpd
    if definition.numerator == "non_performing":
        return S.risk_class.in_(rules.NON_PERFORMING)
    return S.risk_class == "loss"


def compute_month(
    conn: Connection,
    policy: Policy,
    history: pl.DataFrame,
    day: date,
    attributes: tuple[pl.DataFrame, pl.DataFrame] | None = None,
) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    """The month totals of month-end `day` (`history`: the month-ends up to it;
    `attributes`: the customers and loans with their breakdowns, read once for many months)."""
    m = policy.management
    days = [d for d in history["as_of"].to_list() if d <= day]
    window = days[-2:]
    earlier = days[:-2]
    scope = true()
    custs, loans = attributes or service._attributes(conn, conn, policy, scope)
    status = queries.status_rows(conn, window, scope)
    tiers = queries.tiers(conn, window) if queries.has_table(conn, "tier_assignments") else None
    held = service._holders(conn, window)
    disposed = service._disposed(conn, conn, day)
    attached = service._attach(status, custs, loans, tiers, disposed, held)
    ever = _ever_sets(
        conn,
        {f"_ever_{k}": _condition(d) for k, d in m.kpis.items() if d.status == "ever"},
        earlier,
    )
    flagged = rules.with_flags(attached, m, ever)
    pair = history.filter(pl.col("as_of").is_in(window))
    buckets = [b.name for b in policy.dpd_buckets]
    only = pl.col("as_of") == day
    paid = queries.cash(conn, window[0], day, scope) if len(window) == 2 else None
    cash = (
        paid.with_columns(pl.lit(day).alias("as_of"))
        .group_by("account_id", "as_of")
        .agg(pl.col("amount").sum().alias("cash"))
        if paid is not None
        else pl.DataFrame(schema={"account_id": pl.String, "as_of": pl.Date, "cash": pl.Int64})
    )
    month = day.strftime("%Y-%m")
    this = history.filter(only)
    cards = flagged.filter((pl.col("account_type") == "card") & only).select(
        pl.col("account_id").alias("card_id"),
        "as_of",
        (pl.col("outstanding_principal") + pl.col("overdue_amount")).alias("balance"),
    )
    before = _ever_sets(conn, {f"_n{n}": S.dpd >= n for n in m.vintage_dpd}, days[:-1])
    on_day = flagged.filter((pl.col("account_type") == "loan") & only).select(
        "account_id", "as_of", "dpd"
    )
    hits = [pl.DataFrame(schema=rules.VINTAGE_HITS)]
    for n in m.vintage_dpd:
        fresh = on_day
        if before is not None:
            seen = before.filter(pl.col(f"_n{n}").fill_null(False)).select("account_id")
            fresh = on_day.join(seen, on="account_id", how="anti")
        hits.append(rules.vintage_hits(fresh, loans, [n]))
    definitions, figures, left_out = service.area_figures(conn, policy, this, scope)
    frames = {
        "sums": rules.aggregates(flagged.filter(only), m),
        "roll": rules.roll_matrix(flagged, pair, buckets, rules.DIMENSIONS).filter(only),
        "back": rules.recovered(flagged, pair, cash).filter(only),
        "disbursed": rules.disbursement(service._loan_dims(loans, custs), this),
        "dormant": rules.dormant_share(
            queries.cards(conn, scope),
            # from a little before the dormancy window: an older transaction cannot matter
            queries.last_card_activity(
                conn, day, day - timedelta(days=31 * (m.dormant_months + 1))
            ),
            cards,
            this,
            m.dormant_months,
        ),
        "hits": pl.concat(hits),
        "sizes": rules.vintage_sizes(loans),
        "areas": figures,
    }
    cycle = service._cycle(conn, conn, policy, this, scope, (custs, loans, disposed))
    if cycle is not None:  # the card cycle-end definitions' sums of the month
        frames["cycle"] = cycle
    runs = status.filter(only)["run_id"].unique().sort().to_list()
    meta = {"month": month, "area_definitions": definitions, "left_out": left_out}
    return frames, {**meta, "status_run_id": runs[-1] if runs else None}


def store_months(
    conn: Connection, policy: Policy, first: date, run_id: int, now: datetime
) -> list[str]:
    """Drop the totals of `first`'s month on and store them again for every month-end from
    it (each month's last stored date), in order; returns the months written."""
    start = date(first.year, first.month, 1)
    conn.execute(delete(management_month_totals).where(T.as_of >= start))
    _, history = service._history(conn, date(2199, 12, 31))
    key = totals_key(policy)
    written: list[str] = []
    days = history.filter(pl.col("as_of") >= start)["as_of"].to_list()
    attributes = service._attributes(conn, conn, policy, true()) if days else None
    for day in days:
        frames, meta = compute_month(conn, policy, history, day, attributes)
        conn.execute(
            insert(management_month_totals).values(
                as_of=day,
                month=meta["month"],
                totals_key=key,
                status_run_id=meta.pop("status_run_id"),
                frames=_pack_frames(frames, meta),
                run_id=run_id,
                created_at=now,
            )
        )
        written.append(meta["month"])
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
    parts: dict[str, list[pl.DataFrame]] = {name: [] for name in FRAMES}
    runs, definitions, left_out = [], {}, []
    months_wanted = set(months["month"].to_list())
    last_sizes = None
    for day in wanted:
        frames, meta = _unpack_frames(bytes(stored[day].frames))
        for name in ("sums", "roll", "back", "hits"):
            parts[name].append(frames[name])
        last_sizes = frames["sizes"]
        if meta["month"] in months_wanted:
            parts["disbursed"].append(frames["disbursed"])
            parts["dormant"].append(frames["dormant"])
            parts["areas"].append(frames["areas"])
            if "cycle" in frames:
                parts["cycle"].append(frames["cycle"])
            runs.append({"month": meta["month"], "run_id": [stored[day].status_run_id]})
            definitions.update(meta["area_definitions"])
            left_out += [n for n in meta["left_out"] if n not in left_out]
    assert last_sizes is not None
    m = policy.management
    rank = {b: i for i, b in enumerate([*(b.name for b in policy.dpd_buckets), rules.CLOSED])}
    order = [
        pl.col(c).replace_strict(rank, return_dtype=pl.Int32) for c in ("from_bucket", "to_bucket")
    ]
    roll = pl.concat(parts["roll"], how="vertical_relaxed").sort(
        pl.col("as_of"), pl.col("dimension"), pl.col("value"), *order
    )  # the matrix's order: buckets in the policy's order, then closed
    area_rows = pl.concat([pl.DataFrame(schema=service.AREA_FIGURES), *parts["areas"]],
                          how="vertical_relaxed").sort("area", "kpi", "as_of", "dimension",
                                                       "value")  # fmt: skip
    last = wanted[-1].year * 12 + wanted[-1].month
    return service.Parts(
        sums=pl.concat(parts["sums"], how="vertical_relaxed"),
        roll=roll,
        back=pl.concat(parts["back"], how="vertical_relaxed"),
        disbursed=pl.concat(parts["disbursed"], how="vertical_relaxed"),
        dormant=pl.concat(parts["dormant"], how="vertical_relaxed"),
        vintage=rules.vintage_curves(
            pl.concat(parts["hits"], how="vertical_relaxed"), last_sizes, last, m.vintage_dpd
        ),
        runs=pl.DataFrame(runs, schema={"month": pl.String, "run_id": pl.List(pl.Int64)}),
        areas=(definitions, area_rows, left_out),
        cycle=(
            pl.concat(parts["cycle"], how="vertical_relaxed")
            if rules.cycle_kpis(m) and parts["cycle"]
            else None
        ),
    )

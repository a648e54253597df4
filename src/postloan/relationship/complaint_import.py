"""Complaints imported from a file (CR-3 intake by import: `postloan import complaints FILE`),
like the contract imports: every row checked at once (polars over the whole file, a few
set-based queries for the customers, accounts and references already stored), bad rows to
`<file>.rejects.csv` beside it naming the row, the column, the value and the reason, good rows
landed in one transaction, and a re-import of the same file lands nothing again.

The file (CSV, UTF-8 or `--encoding gb18030`, a header row; our reading, written down in
docs/relationship.md — DATA_CONTRACT has no complaints file):
    complaint_ref     required, ≤ 64 characters, unique: the channel's or the lender's reference
                      (a 12378 transfer number, the call centre's ticket): what makes a
                      re-import idempotent
    customer_id       required, a stored customer
    account_id        optional, one of the customer's loans or cards
    received_on       required, YYYY-MM-DD, 1900-2199, not after today: day 0 of the clock
    channel, business_type, reason    required, codes of `[relationship.complaints]`
    summary           required, ≤ 2000 characters
    complained_about  optional, usernames separated by ";" (回避), at most 10

A reference already stored with the same content is unchanged (counted, not landed); with
different content it is rejected (the store never silently changes a complaint: correct it
on its page). Each landed complaint is routed like one taken in on the workbench and gets its
`received` event (source "import"); one audit entry names the file and what landed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, insert, select

from postloan.imports.errors import ImportFileError
from postloan.imports.problems import Problems
from postloan.imports.service import ImportResult
from postloan.inputs import EARLIEST_DATE, LATEST_DATE
from postloan.policy import Policy, current_policy
from postloan.relationship.complaints import MAX_NAMED, MAX_TEXT
from postloan.relationship.file_import import Landed, good_rows, in_chunks, land_file
from postloan.relationship.tables import complaint_events, complaints
from postloan.store.schema import cards, customers, loans
from postloan.store.values import stored_date

KIND = "complaints"
REQUIRED = (
    "complaint_ref", "customer_id", "received_on", "channel", "business_type", "reason", "summary",
)  # fmt: skip
OPTIONAL = ("account_id", "complained_about")
MAX_REF = 64
MAX_NAME = 64
# what a stored complaint is compared on (a re-import: same content → unchanged)
CONTENT = ("customer_id", "account_id", "received_on", "channel", "business_type", "reason",
           "summary", "complained_about")  # fmt: skip


def load(url: str, file: Path, encoding: str | None, actor: str) -> ImportResult:
    """The `Area.imports` loader: today's date and the store's policy in force."""
    return import_complaints(
        url, file, encoding, actor, today=date.today(), now=datetime.now(UTC),
        policy=current_policy(),
    )  # fmt: skip


def _frame(raw: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ImportFileError(f"complaints file: missing column(s) {', '.join(missing)}")
    extra = [c for c in raw.columns if c not in (*REQUIRED, *OPTIONAL, "_row")]
    warnings = [f"ignored columns not in the complaints file: {', '.join(extra)}"] if extra else []
    cols = [
        pl.col(c).str.strip_chars().replace("", None).alias(c)
        if c in raw.columns
        else pl.lit(None, dtype=pl.String).alias(c)
        for c in (*REQUIRED, *OPTIONAL)
    ]
    return raw.select("_row", *cols), warnings


def _names(frame: pl.DataFrame) -> pl.DataFrame:
    """complained_about as the store keeps it: distinct usernames, sorted, comma-joined."""
    names = (
        pl.col("complained_about").fill_null("").str.split(";")
        .list.eval(pl.element().str.strip_chars().filter(pl.element() != "")).list.unique()
        .list.sort()
    )  # fmt: skip
    return frame.with_columns(names.alias("_names")).with_columns(
        pl.col("_names").list.join(",").alias("_named"),
        pl.col("_names").list.len().alias("_n_named"),
        pl.col("_names").list.eval(pl.element().str.len_chars()).list.max().alias("_longest"),
    )


def _check(
    conn: Connection, frame: pl.DataFrame, policy: Policy, today: date, problems: Problems
) -> pl.DataFrame:
    """Every row's problems; returns the frame with `received` (a date) and `_named`."""
    for column in REQUIRED:
        problems.add(frame, pl.col(column).is_null(), column, "required")
    problems.add(frame, pl.col("complaint_ref").str.len_chars() > MAX_REF, "complaint_ref",
                 f"at most {MAX_REF} characters")  # fmt: skip
    long = pl.col("summary").str.len_chars() > MAX_TEXT
    problems.add(frame, long | pl.col("summary").str.contains("\x00", literal=True), "summary",
                 f"at most {MAX_TEXT} characters, no NUL")  # fmt: skip
    codes = policy.relationship.complaints
    for column, known in (("channel", codes.channels), ("business_type", codes.business_types),
                          ("reason", codes.reasons)):  # fmt: skip
        problems.add(frame, pl.col(column).is_not_null() & ~pl.col(column).is_in(list(known)),
                     column, f"not a code of [relationship.complaints]: one of "
                     f"{', '.join(known)}")  # fmt: skip
    frame = frame.with_columns(
        pl.col("received_on").str.strptime(pl.Date, "%Y-%m-%d", strict=False).alias("received")
    )
    given = pl.col("received_on").is_not_null()
    problems.add(frame, given & pl.col("received").is_null(), "received_on",
                 "not a date YYYY-MM-DD")  # fmt: skip
    outside = (pl.col("received") < EARLIEST_DATE) | (pl.col("received") > LATEST_DATE)
    problems.add(frame, outside, "received_on", "outside 1900-01-01 .. 2199-12-31")
    problems.add(frame, ~outside & (pl.col("received") > today), "received_on",
                 f"after today ({today.isoformat()})")  # fmt: skip
    frame = _names(frame)
    odd = pl.col("_names").list.eval(pl.element().str.contains(r"[,\x00]")).list.any()
    bad_names = (pl.col("_n_named") > MAX_NAMED) | (pl.col("_longest") > MAX_NAME) | odd
    problems.add(frame, bad_names, "complained_about",
                 f"at most {MAX_NAMED} usernames of at most {MAX_NAME} characters, "
                 "separated by ';'")  # fmt: skip
    # the stored customers and accounts the file names: one query per kind (in chunks)
    ids = frame["customer_id"].drop_nulls().unique().to_list()
    stored_ids = {r[0] for r in in_chunks(conn, select(customers.c.customer_id),
                                      customers.c.customer_id, ids)}  # fmt: skip
    problems.add(frame, pl.col("customer_id").is_not_null()
                 & ~pl.col("customer_id").is_in(list(stored_ids)), "customer_id",
                 "not a stored customer")  # fmt: skip
    accounts = frame["account_id"].drop_nulls().unique().to_list()
    owners = in_chunks(conn, select(loans.c.loan_id, loans.c.customer_id), loans.c.loan_id,
                        accounts) + in_chunks(conn, select(cards.c.card_id, cards.c.customer_id),
                                               cards.c.card_id, accounts)  # fmt: skip
    owner = pl.DataFrame([(r[0], r[1]) for r in owners], schema={"account_id": pl.String,
                         "_owner": pl.String}, orient="row")  # fmt: skip
    frame = frame.join(owner, on="account_id", how="left")
    problems.add(frame, pl.col("account_id").is_not_null()
                 & (pl.col("_owner").is_null() | (pl.col("_owner") != pl.col("customer_id"))),
                 "account_id", "not a loan or card of this customer")  # fmt: skip
    # a reference twice in the file: the first row counts, the later ones are rejected
    first = pl.col("_row").min().over("complaint_ref")
    problems.add(frame, pl.col("complaint_ref").is_not_null() & (pl.col("_row") != first),
                 "complaint_ref", "repeated in the file")  # fmt: skip
    return frame.sort("_row")


def _against_store(
    conn: Connection, frame: pl.DataFrame, problems: Problems
) -> tuple[pl.Series, list[Any]]:
    """References already stored: same content → unchanged (their `_row`s), different →
    rejected naming the stored complaint."""
    refs = frame["complaint_ref"].drop_nulls().unique().to_list()
    c = complaints.c
    cols = [c.complaint_id, c.complaint_ref, *(getattr(c, n) for n in CONTENT)]
    stored = in_chunks(conn, select(*cols), c.complaint_ref, refs)
    if not stored:
        return pl.Series("_row", [], dtype=pl.Int64), []
    have = pl.DataFrame(
        [(int(r.complaint_id), r.complaint_ref, r.customer_id, r.account_id,
          stored_date(r.received_on), r.channel, r.business_type, r.reason, r.summary,
          r.complained_about or "") for r in stored],
        schema={"_cid": pl.Int64, "complaint_ref": pl.String, "_s_customer": pl.String,
                "_s_account": pl.String, "_s_received": pl.Date, "_s_channel": pl.String,
                "_s_type": pl.String, "_s_reason": pl.String, "_s_summary": pl.String,
                "_s_named": pl.String},
        orient="row",
    )  # fmt: skip
    both = frame.join(have, on="complaint_ref", how="inner")
    same = (
        (pl.col("customer_id") == pl.col("_s_customer"))
        & pl.col("account_id").eq_missing(pl.col("_s_account"))
        & (pl.col("received") == pl.col("_s_received"))
        & (pl.col("channel") == pl.col("_s_channel"))
        & (pl.col("business_type") == pl.col("_s_type"))
        & (pl.col("reason") == pl.col("_s_reason"))
        & (pl.col("summary") == pl.col("_s_summary"))
        & (pl.col("_named") == pl.col("_s_named"))
    ).fill_null(False)
    differs = both.filter(~same)
    problems.add_rows(
        differs.select(
            "_row",
            pl.lit("complaint_ref").alias("column"),
            pl.col("complaint_ref").alias("value"),
            pl.format("already imported as complaint {} with different content: correct it on "
                      "its page", pl.col("_cid")).alias("reason"),
        )
    )  # fmt: skip
    return both.filter(same)["_row"], list(stored)


def import_complaints(
    url: str,
    path: Path,
    encoding: str | None,
    actor: str,
    *,
    today: date,
    now: datetime,
    policy: Policy,
) -> ImportResult:
    """Check and land a complaints file; see the module docstring."""

    def work(conn: Connection, raw: pl.DataFrame, problems: Problems) -> Landed:
        frame, warnings = _frame(raw)
        frame = _check(conn, frame, policy, today, problems)
        unchanged, _ = _against_store(conn, frame, problems)
        good = good_rows(frame, problems, unchanged)
        accepted = _land(conn, good, policy, actor, now)
        return Landed(accepted, unchanged, warnings,
                      {"refs": good["complaint_ref"].head(50).to_list()})  # fmt: skip

    return land_file(url, path, encoding, kind=KIND, audit_action="complaint.imported",
                     actor=actor, now=now, work=work)  # fmt: skip


def _land(conn: Connection, good: pl.DataFrame, policy: Policy, actor: str, now: datetime) -> int:
    """Insert the good rows (routed to their business type's department) and their
    `received` events, two statements whatever the number of rows."""
    if good.height == 0:
        return 0
    routing = policy.relationship.complaints.routing
    rows = [
        {"customer_id": r["customer_id"], "account_id": r["account_id"],
         "received_on": r["received"], "channel": r["channel"],
         "business_type": r["business_type"], "reason": r["reason"],
         "department": routing[r["business_type"]], "summary": r["summary"],
         "complained_about": r["_named"], "complex": False, "created_by": actor,
         "created_at": now, "complaint_ref": r["complaint_ref"]}
        for r in good.iter_rows(named=True)
    ]  # fmt: skip
    conn.execute(insert(complaints), rows)
    refs = [r["complaint_ref"] for r in rows]
    c = complaints.c
    ids = dict(
        (r[0], int(r[1]))
        for r in in_chunks(conn, select(c.complaint_ref, c.complaint_id), c.complaint_ref, refs)
    )
    events = [
        {"complaint_id": ids[r["complaint_ref"]], "kind": "received", "on_day": r["received_on"],
         "actor": actor, "at": now,
         "detail": json.dumps({"customer_id": r["customer_id"], "channel": r["channel"],
                               "business_type": r["business_type"], "reason": r["reason"],
                               "department": r["department"], "source": "import",
                               "complaint_ref": r["complaint_ref"]},
                              ensure_ascii=False, sort_keys=True)}
        for r in rows
    ]  # fmt: skip
    conn.execute(insert(complaint_events), events)
    return len(rows)

"""Survey responses imported from a file (CR-2: "entered in the workbench or imported";
`postloan import survey-responses FILE`), like the complaint import: every row checked at once
(polars over the whole file, one query per kind of id in chunks), bad rows to
`<file>.rejects.csv` beside it naming the row, the column, the value and every reason, good rows
landed in one transaction with one `imports` record and one audit entry, and a re-import of the
same file lands nothing again.

The file (CSV in UTF-8 or `--encoding gb18030`, or Parquet; a header row; our reading, written
down in docs/relationship.md):
    invitation_id   the invitation answered (the send list's id); or empty for a walk-in
    customer_id     the customer; required without an invitation, else it must be the
                    invitation's customer (empty: taken from the invitation)
    version_id      required, a stored questionnaire version
    answered_on     required, YYYY-MM-DD, 1900-2199, not after today, not before the invitation
    csat            required, 1-5 (the overall satisfaction)
    nps             required, 0-10
    <question key>  one column per question of the questionnaires (efficiency, quality, ...):
                    1-5, or empty when not answered; a score for a question the row's version
                    does not ask is rejected
    comment         optional, ≤ 2000 characters: the customer's own words

The key of a row is its invitation (answered once: a second answer, in the file or against the
store, is refused), or for a walk-in the customer, version and day. A key already stored with
the same content is counted unchanged; with different content it is rejected naming the stored
response. Landed responses are ordinary responses (source `import`): a low score opens its
department's follow-up (`feedback.open_followups`)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import Connection, func, insert, select

from postloan.imports.errors import ImportFileError
from postloan.imports.problems import Problems
from postloan.imports.service import ImportResult
from postloan.inputs import EARLIEST_DATE, LATEST_DATE
from postloan.policy import Policy, current_policy
from postloan.relationship.feedback import open_followups
from postloan.relationship.file_import import Landed, good_rows, in_chunks, land_file
from postloan.relationship.surveys import MAX_COMMENT
from postloan.relationship.tables import survey_invitations, survey_responses, survey_versions
from postloan.store.schema import customers
from postloan.store.values import stored_date

KIND = "survey-responses"
REQUIRED = ("version_id", "answered_on", "csat", "nps")
EITHER = ("invitation_id", "customer_id")
OPTIONAL = ("comment",)
MAX_ID = 2**31 - 1
R, INV = survey_responses.c, survey_invitations.c


def load(url: str, file: Path, encoding: str | None, actor: str) -> ImportResult:
    """The `Area.imports` loader: today's date and the store's policy in force."""
    return import_responses(
        url, file, encoding, actor, today=date.today(), now=datetime.now(UTC),
        policy=current_policy(),
    )  # fmt: skip


def _versions(conn: Connection) -> dict[int, list[str]]:
    return {
        int(v): list(json.loads(q))
        for v, q in conn.execute(select(survey_versions.c.version_id, survey_versions.c.questions))
    }


def _frame(raw: pl.DataFrame, keys: list[str]) -> tuple[pl.DataFrame, list[str], list[str]]:
    """The columns read (trimmed, empty → null); the question columns the file has; warnings."""
    missing = [c for c in REQUIRED if c not in raw.columns]
    if not any(c in raw.columns for c in EITHER):
        missing.append("invitation_id or customer_id")
    if missing:
        raise ImportFileError(f"survey responses file: missing column(s) {', '.join(missing)}")
    known = (*REQUIRED, *EITHER, *OPTIONAL)
    questions = sorted(c for c in raw.columns if c in keys and c not in known)
    extra = [c for c in raw.columns if c not in (*known, *questions, "_row")]
    warnings = (
        [f"ignored columns that are no question of a stored questionnaire: {', '.join(extra)}"]
        if extra
        else []
    )
    cols = [
        pl.col(c).str.strip_chars().replace("", None).alias(c)
        if c in raw.columns
        else pl.lit(None, dtype=pl.String).alias(c)
        for c in (*REQUIRED, *EITHER, *questions)
    ]
    comment = (
        pl.col("comment").str.strip_chars().replace("", None)
        if "comment" in raw.columns
        else pl.lit(None, dtype=pl.String)
    )
    return raw.select("_row", *cols, comment.alias("comment")), questions, warnings


def _whole(frame: pl.DataFrame, column: str, low: int, high: int, problems: Problems) -> pl.Expr:
    """`column` as an integer (null when empty or not a whole number in [low, high]; such rows
    rejected)."""
    value = pl.col(column).cast(pl.Int64, strict=False)
    given = pl.col(column).is_not_null()
    problems.add(frame, given & (value.is_null() | (value < low) | (value > high)), column,
                 f"a whole number from {low} to {high}")  # fmt: skip
    return pl.when((value >= low) & (value <= high)).then(value).alias(f"_{column}")


def _check(
    conn: Connection,
    frame: pl.DataFrame,
    questions: list[str],
    versions: dict[int, list[str]],
    today: date,
    problems: Problems,
) -> pl.DataFrame:
    """Every row's problems; returns the frame with typed columns (`_version`, `_invitation`,
    `_customer` the effective customer, `_day`, `_csat`, `_nps`, `_answers` the canonical
    JSON, `_branch`)."""
    for column in REQUIRED:
        problems.add(frame, pl.col(column).is_null(), column, "required")
    problems.add(frame, pl.col("customer_id").is_null() & pl.col("invitation_id").is_null(),
                 "customer_id", "required without an invitation_id")  # fmt: skip
    frame = frame.with_columns(
        _whole(frame, "version_id", 1, MAX_ID, problems),
        _whole(frame, "invitation_id", 1, MAX_ID, problems),
        _whole(frame, "csat", 1, 5, problems),
        _whole(frame, "nps", 0, 10, problems),
        *(_whole(frame, q, 1, 5, problems) for q in questions),
        pl.col("answered_on").str.strptime(pl.Date, "%Y-%m-%d", strict=False).alias("_day"),
    ).rename({"_version_id": "_version", "_invitation_id": "_invitation"})
    given = pl.col("answered_on").is_not_null()
    problems.add(frame, given & pl.col("_day").is_null(), "answered_on", "not a date YYYY-MM-DD")
    outside = (pl.col("_day") < EARLIEST_DATE) | (pl.col("_day") > LATEST_DATE)
    problems.add(frame, outside, "answered_on", "outside 1900-01-01 .. 2199-12-31")
    problems.add(frame, ~outside & (pl.col("_day") > today), "answered_on",
                 f"after today ({today.isoformat()})")  # fmt: skip
    long = pl.col("comment").str.len_chars() > MAX_COMMENT
    problems.add(frame, long | pl.col("comment").str.contains("\x00", literal=True), "comment",
                 f"at most {MAX_COMMENT} characters, no NUL")  # fmt: skip
    # the version exists, and asks each question scored
    problems.add(frame, pl.col("_version").is_not_null()
                 & ~pl.col("_version").is_in(list(versions)), "version_id",
                 "not a stored questionnaire version")  # fmt: skip
    asks = pl.DataFrame(
        [(v, *(q in keys for q in questions)) for v, keys in versions.items()],
        schema={"_version": pl.Int64, **{f"_asks_{q}": pl.Boolean for q in questions}},
        orient="row",
    )
    frame = frame.join(asks, on="_version", how="left")
    for q in questions:
        problems.add(frame, pl.col(q).is_not_null() & pl.col("_version").is_in(list(versions))
                     & ~pl.col(f"_asks_{q}").fill_null(False), q,
                     "not a question of the row's questionnaire version")  # fmt: skip
    # the invitations the file names: one query (in chunks)
    wanted = frame["_invitation"].drop_nulls().unique().to_list()
    sent = pl.DataFrame(
        [(int(r[0]), r[1], r[2], stored_date(r[3])) for r in in_chunks(
            conn, select(INV.invitation_id, INV.customer_id, INV.status, INV.invited_on),
            INV.invitation_id, wanted)],
        schema={"_invitation": pl.Int64, "_inv_customer": pl.String, "_inv_status": pl.String,
                "_invited_on": pl.Date},
        orient="row",
    )  # fmt: skip
    frame = frame.join(sent, on="_invitation", how="left")
    has_inv = pl.col("_invitation").is_not_null()
    problems.add(frame, has_inv & pl.col("_inv_customer").is_null(), "invitation_id",
                 "not a stored invitation")  # fmt: skip
    problems.add(frame, has_inv & (pl.col("_inv_status") == "refused"), "invitation_id",
                 "the invitation was refused (never sent): nothing to answer")  # fmt: skip
    problems.add(frame, has_inv & pl.col("customer_id").is_not_null()
                 & (pl.col("customer_id") != pl.col("_inv_customer")), "customer_id",
                 "not the invitation's customer")  # fmt: skip
    problems.add(frame, has_inv & (pl.col("_day") < pl.col("_invited_on")), "answered_on",
                 "before the invitation went out")  # fmt: skip
    frame = frame.with_columns(pl.coalesce("customer_id", "_inv_customer").alias("_customer"))
    # the customers: stored, with their branch (one query, in chunks)
    ids = frame["_customer"].drop_nulls().unique().to_list()
    branches = pl.DataFrame(
        [(r[0], r[1]) for r in in_chunks(conn, select(customers.c.customer_id,
              customers.c.branch_id), customers.c.customer_id, ids)],
        schema={"_customer": pl.String, "_branch": pl.String},
        orient="row",
    )  # fmt: skip
    frame = frame.join(branches, on="_customer", how="left").with_columns(
        pl.col("_customer").is_in(branches["_customer"].implode()).alias("_stored")
    )
    problems.add(frame, pl.col("customer_id").is_not_null() & ~pl.col("_stored"),
                 "customer_id", "not a stored customer")  # fmt: skip
    # the answers as the store keeps them: JSON of the scored questions, keys sorted
    parts = [
        pl.when(pl.col(f"_{q}").is_not_null()).then(pl.format(f'"{q}": {{}}', pl.col(f"_{q}")))
        for q in sorted(questions)
    ]
    answers = pl.concat_list(parts).list.drop_nulls().list.join(", ") if parts else pl.lit("")
    frame = frame.with_columns(pl.concat_str([pl.lit("{"), answers, pl.lit("}")]).alias("_answers"))
    # a key twice in the file: the first row counts, later ones are rejected
    first_inv = pl.col("_row").min().over("_invitation")
    problems.add(frame, has_inv & (pl.col("_row") != first_inv), "invitation_id",
                 "answered twice in the file")  # fmt: skip
    walk_in = pl.col("_invitation").is_null() & pl.col("_customer").is_not_null()
    first_walk = pl.col("_row").min().over("_customer", "_version", "_day", "_invitation")
    problems.add(frame, walk_in & (pl.col("_row") != first_walk), "customer_id",
                 "repeated in the file (the same customer, version and day)")  # fmt: skip
    return frame.sort("_row")


CONTENT = ("_customer", "_version", "_day", "_csat", "_nps", "_answers", "comment")


def _against_store(conn: Connection, frame: pl.DataFrame, problems: Problems) -> pl.Series:
    """Keys already stored: same content → unchanged (their `_row`s); different → rejected
    naming the stored response."""
    cols = [R.response_id, R.invitation_id, R.customer_id, R.version_id, R.answered_on, R.csat,
            R.nps, R.answers, R.comment]  # fmt: skip
    by_inv = in_chunks(conn, select(*cols), R.invitation_id,
                        frame["_invitation"].drop_nulls().unique().to_list())  # fmt: skip
    walk = frame.filter(pl.col("_invitation").is_null() & pl.col("_customer").is_not_null())
    by_walk = [
        r for r in in_chunks(conn, select(*cols).where(R.invitation_id.is_(None)),
                              R.customer_id, walk["_customer"].unique().to_list())
    ]  # fmt: skip
    stored = by_inv + by_walk
    if not stored:
        return pl.Series("_row", [], dtype=pl.Int64)
    have = pl.DataFrame(
        [(int(r.response_id), r.invitation_id, r.customer_id, int(r.version_id),
          stored_date(r.answered_on), int(r.csat), int(r.nps), r.answers, r.comment)
         for r in stored],
        schema={"_rid": pl.Int64, "_invitation": pl.Int64, "_customer": pl.String,
                "_version": pl.Int64, "_day": pl.Date, "_csat": pl.Int64, "_nps": pl.Int64,
                "_answers": pl.String, "comment": pl.String},
        orient="row",
    ).unique("_rid")  # fmt: skip
    stored_cols = {c: f"_s{c}" for c in CONTENT}
    inv_match = frame.filter(pl.col("_invitation").is_not_null()).join(
        have.filter(pl.col("_invitation").is_not_null()).select(
            "_rid", "_invitation", *[pl.col(c).alias(s) for c, s in stored_cols.items()]),
        on="_invitation", how="inner",
    )  # fmt: skip
    walk_match = walk.join(
        have.filter(pl.col("_invitation").is_null()).select(
            "_rid", "_customer", "_version", "_day",
            *[pl.col(c).alias(s) for c, s in stored_cols.items()]),
        on=["_customer", "_version", "_day"], how="inner",
    )  # fmt: skip
    keep = ["_row", "_rid", *CONTENT, *stored_cols.values()]
    both = pl.concat([inv_match.select(keep), walk_match.select(keep)])
    same = pl.all_horizontal(
        [pl.col(c).eq_missing(pl.col(s)) for c, s in stored_cols.items()]
    ).fill_null(False)
    differs = both.filter(~same)
    problems.add_rows(
        differs.select(
            "_row",
            pl.lit("invitation_id").alias("column"),
            pl.col("_rid").cast(pl.String).alias("value"),
            pl.format("already answered as response {} with different content", pl.col("_rid"))
            .alias("reason"),
        )
    )  # fmt: skip
    return both.filter(same)["_row"].unique()


def import_responses(
    url: str,
    path: Path,
    encoding: str | None,
    actor: str,
    *,
    today: date,
    now: datetime,
    policy: Policy,
) -> ImportResult:
    """Check and land a survey responses file; see the module docstring."""

    def work(conn: Connection, raw: pl.DataFrame, problems: Problems) -> Landed:
        versions = _versions(conn)
        keys = sorted({k for qs in versions.values() for k in qs})
        frame, questions, warnings = _frame(raw, keys)
        frame = _check(conn, frame, questions, versions, today, problems)
        unchanged = _against_store(conn, frame, problems)
        # a row rejected for another reason (a repeat in the file) is not "unchanged"
        unchanged = unchanged.filter(~unchanged.is_in(problems.rows().implode()))
        good = good_rows(frame, problems, unchanged)
        return Landed(_land(conn, good, policy, actor, now), unchanged, warnings)

    return land_file(url, path, encoding, kind=KIND, audit_action="survey.imported",
                     actor=actor, now=now, work=work)  # fmt: skip


def _land(conn: Connection, good: pl.DataFrame, policy: Policy, actor: str, now: datetime) -> int:
    """One insert of the good rows, then their follow-ups (`feedback.open_followups`)."""
    if good.height == 0:
        return 0
    before = conn.execute(select(func.coalesce(func.max(R.response_id), 0))).scalar_one()
    rows = good.select(
        pl.col("_version").alias("version_id"),
        pl.col("_customer").alias("customer_id"),
        pl.col("_branch").alias("branch_id"),
        pl.col("_day").alias("answered_on"),
        pl.col("_csat").alias("csat"),
        pl.col("_nps").alias("nps"),
        pl.col("_answers").alias("answers"),
        pl.lit("import").alias("source"),
        pl.lit(actor).alias("entered_by"),
        pl.col("_invitation").alias("invitation_id"),
        pl.col("comment"),
    )
    conn.execute(insert(survey_responses), rows.to_dicts())
    landed = conn.execute(
        select(R.response_id).where(R.response_id > before, R.source == "import")
    ).scalars()
    open_followups(conn, policy, list(landed), now)
    return rows.height

#!/usr/bin/env python3
"""Build the demo store in a scratch folder and write every export and report of it to OUT,
with a SHA-256 list — so a refactoring can prove its outputs byte-identical:

    python scripts/demo_outputs.py /tmp/before     # on the old code
    python scripts/demo_outputs.py /tmp/after      # on the new code
    diff /tmp/before/SHA256SUMS /tmp/after/SHA256SUMS

Outputs: the contract exports of every kind, account-status of the last three stored dates
(CSV and Parquet), `report collections --json` for the last 30 and 120 days and
`report compliance --json`. Run metadata (run ids, times) is not part of any of them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

AS_OF = date(2026, 6, 30)
KINDS = ("customers", "loans", "schedules", "cards", "card-statements", "payments", "events")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "POSTLOAN_DATA_DIR": scratch}
        env.pop("POSTLOAN_DATABASE_URL", None)
        env.pop("POSTLOAN_POLICY", None)

        def postloan(*argv: str, stdout: Path | None = None) -> None:
            command = [sys.executable, "-m", "postloan", *argv]
            with open(stdout, "wb") if stdout else open(os.devnull, "wb") as sink:
                done = subprocess.run(command, env=env, stdout=sink, check=False)
            # report commands exit 1 when there is work to act on: only 2+ is a failure
            if done.returncode >= 2:
                raise SystemExit(f"failed ({done.returncode}): postloan {' '.join(argv)}")

        postloan("demo", "--no-serve", "--customers", str(args.customers),
                 "--days", str(args.days), "--as-of", AS_OF.isoformat())  # fmt: skip
        for kind in KINDS:
            postloan("export", kind, "--out", str(out / f"{kind}.csv"))
        for back in (0, 1, 7):
            day = (AS_OF - timedelta(days=back)).isoformat()
            for ext in ("csv", "parquet"):
                postloan("export", "account-status", "--as-of", day,
                         "--out", str(out / f"account-status-{day}.{ext}"))  # fmt: skip
        for span in (30, args.days):
            first = (AS_OF - timedelta(days=span - 1)).isoformat()
            postloan("report", "collections", "--from", first, "--to", AS_OF.isoformat(),
                     "--json", stdout=out / f"report-collections-{span}d.json")  # fmt: skip
        postloan("report", "compliance", "--as-of", AS_OF.isoformat(), "--json",
                 stdout=out / "report-compliance.json")  # fmt: skip
    sums = [
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}"
        for path in sorted(out.iterdir())
        if path.is_file() and path.name != "SHA256SUMS"
    ]
    (out / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    print(f"{len(sums)} files in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`postloan policy ...`: check a policy file, show the policy in force.

The policy in force is the same for every entry point (`postloan.policy.loader`): what
`policy show` prints is what `postloan run` and the API use.

Exit codes: 0 valid; 1 the policy has problems (each printed as ``parameter: reason``);
2 the file cannot be read.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from postloan.policy import (
    POLICY_ENV_VAR,
    Policy,
    PolicyError,
    PolicyFileError,
    dump_policy_toml,
    load_policy,
)
from postloan.policy.loader import POLICY_FILE_NAME, policy_file, policy_in_force

app = typer.Typer(
    help="Check and show the post-loan policy (贷后管理策略): buckets, classes, contact rules.",
    no_args_is_help=True,
)


class OutputFormat(StrEnum):
    toml = "toml"
    json = "json"


def _report(exc: PolicyError, source: str) -> None:
    count = len(exc.problems)
    typer.echo(f"{source}: {count} problem{'s' if count != 1 else ''}", err=True)
    for problem in exc.problems:
        typer.echo(f"  {problem}", err=True)


def _load(path: Path) -> Policy:
    """Load ``path`` or exit: 2 when it cannot be read, 1 when it is not a valid policy."""
    try:
        return load_policy(path)
    except PolicyFileError as exc:
        _report(exc, str(path))
        raise typer.Exit(2) from None
    except PolicyError as exc:
        _report(exc, str(path))
        raise typer.Exit(1) from None


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="Policy file (TOML) to check.")],
) -> None:
    """Check a policy file; print its version or every problem with the parameter's path."""
    policy = _load(file)
    typer.echo(f"OK: policy {policy.version[:12]}")


@app.command()
def show(
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            help=f"Policy file to show; default: the policy in force (${POLICY_ENV_VAR}, else "
            f"<data dir>/{POLICY_FILE_NAME} as replaced through the API, else the packaged "
            "default).",
        ),
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="Output as TOML (loadable) or JSON.")
    ] = OutputFormat.toml,
) -> None:
    """Print the policy in force (or FILE), its version and where it came from."""
    if file is not None:
        policy, source = _load(file), str(file)
    else:
        try:
            found = policy_in_force()
        except PolicyFileError as exc:
            _report(exc, str(policy_file()))
            raise typer.Exit(2) from None
        except PolicyError as exc:
            _report(exc, str(policy_file()))
            raise typer.Exit(1) from None
        policy, source = found.policy, found.source
    if output is OutputFormat.json:
        document = {
            "version": policy.version,
            "source": source,
            "policy": policy.model_dump(mode="json"),
        }
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        typer.echo(f"# source: {source}")
        typer.echo(f"# version: {policy.version}")
        typer.echo(dump_policy_toml(policy), nl=False)

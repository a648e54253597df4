"""How much of a business area's non-shell code sits in functions that take a database
connection (issue 11): the lines of functions with a `conn` parameter or a `Connection` /
`Engine` annotation, against the lines of all functions. The area's shell modules (`api/`,
`web/`, `cli.py`) are left out: they are HTTP and command-line translation, not rules.

    python scripts/area_purity.py src/postloan/collections [--all]

prints the share for the area and one line per module (`--all`: modules without functions
too). A nested function is counted in its own right and in the function around it.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

SHELL_DIRS = ("api", "web")
SHELL_FILES = ("cli.py",)


def is_shell(relative: Path) -> bool:
    return relative.parts[0] in SHELL_DIRS or relative.as_posix() in SHELL_FILES


def takes_connection(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    if any(a.arg == "conn" for a in args):
        return True
    notes = " ".join(ast.unparse(a.annotation) for a in args if a.annotation is not None)
    return "Connection" in notes or "Engine" in notes


def module_lines(path: Path) -> tuple[int, int]:
    """(lines in connection-taking functions, lines in all functions) of one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    with_conn = total = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            lines = node.end_lineno - node.lineno + 1
            total += lines
            if takes_connection(node):
                with_conn += lines
    return with_conn, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("area", type=Path, help="the area's package folder")
    parser.add_argument("--all", action="store_true", help="list modules without functions too")
    args = parser.parse_args(argv)
    root: Path = args.area
    per: dict[str, tuple[int, int]] = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if not is_shell(relative):
            per[relative.as_posix()] = module_lines(path)
    with_conn = sum(b for b, _ in per.values())
    total = sum(a for _, a in per.values())
    share = with_conn / total if total else 0.0
    print(f"{root}: {with_conn}/{total} function lines take a connection = {share:.0%}")
    for name, (b, a) in per.items():
        if a or args.all:
            part = f"{b / a:4.0%}" if a else "   -"
            print(f"  {part}  {b:4d}/{a:<4d}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The app served by uvicorn in a process of its own, for the benchmarks that measure it from
outside (a load tool, a browser): a free loopback port, the app built from the environment
(`serve_cmd.app_from_env`), ready once `ready_path` answers; stopped when the block ends."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(
    env: dict[str, str], *, workers: int = 1, ready_path: str = "/login", wait_s: float = 120
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """(base URL, the server process) while the block runs."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "postloan.cli.serve_cmd:app_from_env",
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
         "--log-level", "warning"],
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base}{ready_path}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=30)

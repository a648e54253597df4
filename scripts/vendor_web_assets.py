#!/usr/bin/env python3
"""Fetch the workbench's third-party files (htmx, Apache ECharts, Swagger UI) from the npm registry.

The files are not committed: this script downloads each package's tarball, checks it against
the `dist.integrity` (SRI, sha512) published in the registry metadata, and extracts the files
the server ships into `src/postloan/web/static/vendor/` (gitignored). Swagger UI's bundle and
stylesheet serve the API docs at /docs from the package: nothing is loaded from a CDN, so the
docs work on closed networks.

Idempotent: a file already present whose SHA-512 matches the recorded stamp is left alone.
Exits non-zero with a message naming the package and the reason on any failure.

    python scripts/vendor_web_assets.py            # fetch what is missing
    python scripts/vendor_web_assets.py --force    # fetch again
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY = os.environ.get("POSTLOAN_NPM_REGISTRY", "https://registry.npmjs.org").rstrip("/")
VENDOR = Path(__file__).resolve().parent.parent / "src" / "postloan" / "web" / "static" / "vendor"
STAMP = VENDOR / "versions.json"
TIMEOUT = 60


@dataclass(frozen=True)
class Asset:
    package: str  # npm package name
    version: str  # exact version: upgrades are a reviewed change of this line
    member: str  # path inside the tarball (npm tarballs put everything under package/)
    target: str  # file name under static/vendor/


ASSETS = (
    Asset("htmx.org", "2.0.4", "package/dist/htmx.min.js", "htmx.min.js"),
    Asset("echarts", "5.6.0", "package/dist/echarts.min.js", "echarts.min.js"),
    Asset("swagger-ui-dist", "5.35.0", "package/swagger-ui-bundle.js", "swagger-ui-bundle.js"),
    Asset("swagger-ui-dist", "5.35.0", "package/swagger-ui.css", "swagger-ui.css"),
)


class VendorError(Exception):
    pass


def _get(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": "postloan-vendor/1"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return bytes(response.read())
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise VendorError(f"cannot fetch {url}: {exc}") from exc


def _check_integrity(data: bytes, integrity: str, what: str) -> None:
    """Verify an SRI string ("sha512-<base64>", possibly several, space-separated)."""
    for entry in integrity.split():
        algo, _, expected = entry.partition("-")
        if algo in ("sha512", "sha384", "sha256"):
            actual = base64.b64encode(hashlib.new(algo, data).digest()).decode()
            if actual != expected:
                raise VendorError(f"{what}: {algo} integrity mismatch (tarball corrupted?)")
            return
    raise VendorError(f"{what}: no usable integrity hash in registry metadata: {integrity!r}")


def _load_stamp() -> dict[str, dict[str, str]]:
    try:
        data = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _sha512(path: Path) -> str:
    return hashlib.sha512(path.read_bytes()).hexdigest()


def _up_to_date(asset: Asset, stamp: dict[str, dict[str, str]]) -> bool:
    path = VENDOR / asset.target
    entry = stamp.get(asset.target)
    return (
        path.is_file()
        and entry is not None
        and entry.get("version") == asset.version
        and entry.get("sha512") == _sha512(path)
    )


def _tarball(package: str, version: str, cache: dict[str, bytes]) -> bytes:
    """A package's tarball, integrity-checked; fetched once per run (several files may come
    from one package)."""
    what = f"{package}@{version}"
    if what in cache:
        return cache[what]
    meta_raw = _get(f"{REGISTRY}/{package}/{version}")
    try:
        dist = json.loads(meta_raw)["dist"]
        tarball_url, integrity = dist["tarball"], dist["integrity"]
    except (ValueError, KeyError, TypeError) as exc:
        raise VendorError(f"{what}: unexpected registry metadata ({exc})") from exc
    tarball = _get(tarball_url)
    _check_integrity(tarball, integrity, what)
    cache[what] = tarball
    return tarball


def fetch(asset: Asset, cache: dict[str, bytes] | None = None) -> bytes:
    what = f"{asset.package}@{asset.version}"
    tarball = _tarball(asset.package, asset.version, {} if cache is None else cache)
    try:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
            member = archive.extractfile(asset.member)
            if member is None:
                raise VendorError(f"{what}: {asset.member} is not a file in the tarball")
            return member.read()
    except KeyError as exc:
        raise VendorError(f"{what}: {asset.member} not found in the tarball") from exc
    except tarfile.TarError as exc:
        raise VendorError(f"{what}: unreadable tarball ({exc})") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="download even if up to date")
    args = parser.parse_args(argv)
    VENDOR.mkdir(parents=True, exist_ok=True)
    stamp = _load_stamp()
    tarballs: dict[str, bytes] = {}
    try:
        for asset in ASSETS:
            if not args.force and _up_to_date(asset, stamp):
                print(f"vendor: {asset.target} ({asset.package}@{asset.version}) up to date")
                continue
            content = fetch(asset, tarballs)
            path = VENDOR / asset.target
            partial = path.with_suffix(".part")
            partial.write_bytes(content)
            partial.replace(path)  # atomic: never a half-written file in static/
            stamp[asset.target] = {"version": asset.version, "sha512": _sha512(path)}
            STAMP.write_text(json.dumps(stamp, indent=2, sort_keys=True) + "\n")
            print(f"vendor: {asset.target} <- {asset.package}@{asset.version} ({len(content)} B)")
    except VendorError as exc:
        print(f"vendor_web_assets: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Files as lenders send them: GB18030 (what Chinese core systems and Excel write), UTF-8 with a
byte-order mark, UTF-16, broken CSV — each read or refused with a message that names the file
and says what to do, never a server path or a library's internals (issue 10, hardening)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from postloan.imports.encoding import EncodingRefused
from postloan.imports.service import ImportFileError, import_file
from postloan.store.db import engine_for
from postloan.store.schema import customers

HEADER = "customer_id,name,address\n"
ROWS = "CU1,张三,北京市朝阳区建国路1号\nCU2,李四,上海市浦东新区世纪大道2号\n"
TEXT = HEADER + ROWS
INTERNALS = ("Traceback", "polars", "adbc", "Polars", "pyarrow", "infer_schema", "utf8-lossy")


def _file(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _names(url: str) -> list[str]:
    engine = engine_for(url)
    with engine.connect() as conn:
        names = list(conn.scalars(select(customers.c.name).order_by(customers.c.customer_id)))
    engine.dispose()
    return names


def _clean(message: str, folder: Path) -> None:
    assert str(folder) not in message and tempfile.gettempdir() not in message, message
    assert not any(word in message for word in INTERNALS), message


def test_gb18030_is_refused_with_the_remedy_then_read_when_told(
    store_url: str, tmp_path: Path
) -> None:
    path = _file(tmp_path, "客户.csv", TEXT.encode("gb18030"))
    with pytest.raises(EncodingRefused) as refused:
        import_file("customers", path, store_url)
    message = str(refused.value)
    assert message.startswith("客户.csv is GB18030") and "pass --encoding gb18030" in message
    _clean(message, tmp_path)
    assert _names(store_url) == []
    for spelling in ("gb18030", "GBK"):
        result = import_file("customers", path, store_url, encoding=spelling)
        assert result.rejected == 0
    assert _names(store_url) == ["张三", "李四"]  # read right, and the second time a no-op
    engine = engine_for(store_url)
    with engine.connect() as conn:
        address = conn.scalar(select(customers.c.address).where(customers.c.customer_id == "CU2"))
    engine.dispose()
    assert address == "上海市浦东新区世纪大道2号"


def test_utf8_with_byte_order_mark_is_read(store_url: str, tmp_path: Path) -> None:
    path = _file(tmp_path, "customers.csv", b"\xef\xbb\xbf" + TEXT.encode())
    assert import_file("customers", path, store_url).accepted == 2
    assert _names(store_url) == ["张三", "李四"]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le"])  # with a mark, and without
def test_utf16_is_refused(store_url: str, tmp_path: Path, codec: str) -> None:
    path = _file(tmp_path, "customers.csv", "customer_id,name\nCU1,Zhang\n".encode(codec))
    with pytest.raises(EncodingRefused, match=r"customers\.csv is UTF-16.*save it as 'CSV UTF-8'"):
        import_file("customers", path, store_url)


def test_wrong_encodings_are_named(store_url: str, tmp_path: Path) -> None:
    utf8 = _file(tmp_path, "a.csv", TEXT.encode())
    with pytest.raises(EncodingRefused, match=r"a\.csv is UTF-8, not GB18030"):
        import_file("customers", utf8, store_url, encoding="gb18030")  # would be mojibake
    latin = _file(tmp_path, "b.csv", "customer_id,name\nCU1,José Müller\n".encode("latin-1"))
    with pytest.raises(EncodingRefused, match=r"b\.csv is not UTF-8 text \(line 2"):
        import_file("customers", latin, store_url)
    with pytest.raises(ImportFileError, match="unknown encoding 'latin-1': use utf-8 or gb18030"):
        import_file("customers", utf8, store_url, encoding="latin-1")
    assert _names(store_url) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the file is empty"),
        (b"customer_id,name\nCU1,a,extra\n", "a line has more fields than the header"),
        (b'customer_id,name\nCU1,"unclosed\n', "a quoted field is not closed"),
        (b"customer_id,name,name\nCU1,a,b\n", "the header names a column twice: name"),
        (b"customer_id,name,\nCU1,a,b\n", "column 3 of the header has no name"),
        (b"customer_id,name,_row\nCU1,a,1\n", "the column name _row is reserved"),
    ],
)
def test_broken_csv_is_named_in_plain_words(
    store_url: str, tmp_path: Path, data: bytes, reason: str
) -> None:
    path = _file(tmp_path, "c.csv", data)
    with pytest.raises(ImportFileError) as refused:
        import_file("customers", path, store_url)
    assert str(refused.value).startswith("c.csv: ") and reason in str(refused.value)
    _clean(str(refused.value), tmp_path)


def test_broken_parquet_is_named(store_url: str, tmp_path: Path) -> None:
    import polars as pl

    nested = tmp_path / "n.parquet"
    pl.DataFrame({"customer_id": ["CU1"], "name": [["a", "b"]]}).write_parquet(nested)
    with pytest.raises(ImportFileError, match=r"n\.parquet: columns name hold lists"):
        import_file("customers", nested, store_url)
    junk = _file(tmp_path, "j.parquet", b"PAR1 not really")
    with pytest.raises(ImportFileError, match=r"^j\.parquet: not a readable Parquet file$"):
        import_file("customers", junk, store_url)


def _postloan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "postloan", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "POSTLOAN_DATA_DIR": str(cwd / "data")},
    )


def test_cli_import_encoding_option(tmp_path: Path) -> None:
    _file(tmp_path, "gb.csv", TEXT.encode("gb18030"))
    refused = _postloan("import", "customers", "gb.csv", cwd=tmp_path)
    assert refused.returncode == 2
    assert "gb.csv is GB18030 (GBK), not UTF-8 (line 2): convert it to UTF-8 or pass --encoding " \
        "gb18030" in " ".join(refused.stderr.split())  # fmt: skip
    assert "Traceback" not in refused.stderr
    done = _postloan("import", "customers", "gb.csv", "--encoding", "gb18030", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 imported" in done.stdout
    engine = engine_for(f"sqlite:///{tmp_path / 'data' / 'postloan.sqlite'}")
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(customers)) == 2
        assert conn.scalar(select(customers.c.name).where(customers.c.customer_id == "CU1")) == (
            "张三"
        )
    engine.dispose()


def test_status_on_files_names_the_problem(tmp_path: Path) -> None:
    """`postloan status FOLDER` reads the same files: a GB18030 file or a bad value is a
    message and exit 2, not a traceback."""
    folder = tmp_path / "files"
    folder.mkdir()
    _file(folder, "customers.csv", TEXT.encode("gb18030"))
    gb = _postloan("status", "files", "--as-of", "2026-06-30", cwd=tmp_path)
    assert gb.returncode == 2 and "Traceback" not in gb.stderr
    assert "customers.csv is GB18030 (GBK), not UTF-8: convert it to UTF-8" in gb.stderr
    _file(folder, "customers.csv", b"customer_id,name,monthly_income\nCU1,a,abc\n")
    bad = _postloan("status", "files", "--as-of", "2026-06-30", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "column 'monthly_income': cannot read 'abc' as an amount" in bad.stderr

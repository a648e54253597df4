"""Text encodings of contract CSV files: UTF-8 by the contract, GB18030 when the operator says so.

Chinese core systems and Excel ("CSV" rather than "CSV UTF-8") write GB18030 — or GBK, its
subset — and a GB18030 file is not UTF-8. Guessing is not safe in a system of record: almost
any byte sequence decodes as *something* in GB18030 (a Latin-1 file comes out as plausible
Chinese), and a stored row is never changed by a later import. So postloan reads UTF-8 (with or
without a byte-order mark), reads GB18030 when told (`--encoding gb18030`, or the upload's
`encoding` field), and otherwise refuses a file that is not UTF-8 with a message saying what it
looks like and what to do. UTF-16 (Excel's "Unicode text") is refused with its own message.
"""

from __future__ import annotations

import codecs
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from postloan.imports.errors import ImportFileError

UTF8 = "utf-8"
GB18030 = "gb18030"
_NAMES = {"utf-8": UTF8, "utf8": UTF8, "gb18030": GB18030, "gbk": GB18030, "gb2312": GB18030,
          "cp936": GB18030}  # fmt: skip
ENCODINGS = (UTF8, GB18030)
_CHUNK = 1 << 20
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class EncodingRefused(ImportFileError):
    """The file is not in the encoding it is read with; `detected` names what it looks like
    (gb18030, utf-16, utf-8) when known."""

    def __init__(self, message: str, detected: str | None = None) -> None:
        super().__init__(message)
        self.detected = detected

    def __reduce__(self) -> tuple[type[EncodingRefused], tuple[str, str | None]]:
        # raised in the API's import worker and unpickled in the server: keep `detected`
        return (type(self), (str(self), self.detected))


def encoding_name(text: str | None) -> str:
    """The encoding a user named (None: UTF-8), or a refusal naming the ones supported."""
    if text is None or not text.strip():
        return UTF8
    name = _NAMES.get(text.strip().lower().replace("_", "-"))
    if name is None:
        raise ImportFileError(f"unknown encoding {text!r}: use utf-8 or gb18030 (also gbk)")
    return name


def _undecodable_at(path: Path, encoding: str) -> int | None:
    """Byte offset of the first byte `encoding` cannot decode (None: the whole file decodes).
    Streams the file: large files are never held in memory."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset + max(exc.start, 0)
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset
    return None


def _line_of(path: Path, offset: int) -> int:
    lines = 1
    with path.open("rb") as source:
        while offset > 0 and (chunk := source.read(min(_CHUNK, offset))):
            lines += chunk.count(b"\n")
            offset -= len(chunk)
    return lines


def _looks_utf16(head: bytes) -> bool:
    if head.startswith(_UTF16_BOMS):
        return True
    # UTF-16 without a mark: the zero half of every ASCII character
    return len(head) >= 8 and head.count(0) * 4 >= len(head)


def _has_non_ascii(path: Path) -> bool:
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            if not chunk.isascii():
                return True
    return False


def refuse_utf16(path: Path) -> None:
    """A quick look at the start of the file: UTF-16 can pass for UTF-8 when it is all ASCII
    (every other byte zero), so it is refused before anything reads it."""
    with path.open("rb") as source:
        head = source.read(4096)
    if _looks_utf16(head):
        raise EncodingRefused(
            f"{path.name} is UTF-16 (Excel's 'Unicode text'), not UTF-8: save it as 'CSV UTF-8'",
            "utf-16",
        )


def check_encoding(path: Path, encoding: str) -> None:
    """Refuse `path` unless it is text in `encoding` (a UTF-8 byte-order mark is fine); the
    refusal says what the file looks like instead. Reads the whole file (streamed)."""
    name = path.name
    refuse_utf16(path)
    if encoding == GB18030 and _has_non_ascii(path) and _undecodable_at(path, UTF8) is None:
        # Chinese UTF-8 text may decode as GB18030 too — as nonsense
        raise EncodingRefused(f"{name} is UTF-8, not GB18030: import it without an encoding", UTF8)
    bad = _undecodable_at(path, encoding)
    if encoding == GB18030:
        if bad is not None:
            line = _line_of(path, bad)
            raise EncodingRefused(f"{name} is not GB18030 text (line {line} cannot be decoded)")
        return
    if bad is None:
        return
    line = _line_of(path, bad)
    if _undecodable_at(path, GB18030) is None:
        raise EncodingRefused(
            f"{name} is GB18030 (GBK), not UTF-8 (line {line}): convert it to UTF-8 or pass"
            " --encoding gb18030",
            GB18030,
        )
    raise EncodingRefused(
        f"{name} is not UTF-8 text (line {line} cannot be decoded): save it as UTF-8", None
    )


@contextmanager
def utf8_csv(path: Path, encoding: str = UTF8) -> Iterator[Path]:
    """A UTF-8 copy of a CSV file to read: `path` itself for UTF-8 (a reader that meets a bad
    byte calls `check_encoding` for the diagnosis: no extra pass over good files), a temporary
    transcoded copy for GB18030 (checked first, streamed, removed afterwards)."""
    if encoding == UTF8:
        refuse_utf16(path)
        yield path
        return
    check_encoding(path, encoding)
    with tempfile.TemporaryDirectory(prefix="postloan-transcode-") as folder:
        target = Path(folder) / path.name
        decoder = codecs.getincrementaldecoder(encoding)()
        with path.open("rb") as source, target.open("w", encoding=UTF8, newline="") as out:
            while chunk := source.read(_CHUNK):
                out.write(decoder.decode(chunk))
            out.write(decoder.decode(b"", final=True))
        yield target

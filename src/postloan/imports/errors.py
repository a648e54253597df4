"""Why a whole file cannot be imported (as opposed to the rows it rejects)."""

from __future__ import annotations


class ImportFileError(ValueError):
    """The file cannot be read at all (missing, wrong format or encoding). The message names
    the file by its name only and says what is wrong in the user's terms — no server paths
    and no library internals, so the API can pass it on as it is."""

"""The refusals of a change to a legal or disposal record (a proposal, a matter, a write-off or
asset disposal). Each is a domain error of its kind (`postloan.errors`: not found, invalid,
conflict, refused), names the record in its message and the input at fault in `field`.

Shared by `legal_proposals`, `legal_matters` and `disposals`; pure (no database).
"""

from __future__ import annotations

from collections.abc import Sequence

from postloan.errors import ConflictError, DomainError, InvalidError, NotFoundError, RefusedError


class RecordError(DomainError):
    """Base of the legal and disposal records' errors: `field` names the input at fault."""


class RecordNotFound(RecordError, NotFoundError):
    """No such proposal, matter, disposal or account."""


class RecordInvalid(RecordError, InvalidError):
    """Bad input: a value out of range, an unknown category, a date before its stage."""


class RecordConflict(RecordError, ConflictError):
    """The record is not in a state that allows the change (decided already, closed, …)."""


class EvidenceMissing(RecordConflict):
    """A legal stage's evidence items are not all on file; `missing` names them."""

    code = "evidence_missing"

    def __init__(self, where: str, stage: str, missing: Sequence[str]) -> None:
        super().__init__(
            f"{where}: stage: cannot enter {stage}: evidence missing: " + ", ".join(missing),
            "stage",
        )
        self.missing = list(missing)


class SameUser(RecordError, RefusedError):
    """Maker-checker: the proposer of a disposal may not decide it."""

    code = "maker_checker"

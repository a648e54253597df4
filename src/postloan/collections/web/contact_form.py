"""The case page's contact form: the values as typed (re-shown on a refusal), each field
checked as the API's `ContactIn` does (every error names its field), and what they parse to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from postloan.access.users import User
from postloan.collections.contacts import CHANNELS, OUTCOMES
from postloan.collections.web.forms import zone_of
from postloan.inputs import InputError, check_instant, parse_amount_text, parse_business_date
from postloan.policy import Policy


@dataclass
class ContactForm:
    """The contact form's values as typed (re-shown on a refusal) and what they parse to."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    at: datetime | None = None
    staff: tuple[str, ...] = ()
    promise: tuple[int, date] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


CONTACT_FIELDS = ("channel", "at", "outcome", "account_id", "staff", "content", "response",
                  "promise_amount", "promise_date")  # fmt: skip
MAX_TEXT = 4000


def blank_contact_form(policy: Policy, now: datetime | None = None) -> ContactForm:
    local = (now or datetime.now(UTC)).astimezone(zone_of(policy))
    return ContactForm(values={"channel": "phone", "at": f"{local:%Y-%m-%dT%H:%M}",
                               "outcome": "connected"})  # fmt: skip


def parse_contact_form(
    form: Any, user: User, customer_id: str, accounts: list[str], policy: Policy
) -> ContactForm:
    """Check the typed fields (as the API's ContactIn does); each error names its field."""
    values = {k: str(form.get(k) or "").replace("\x00", "").strip() for k in CONTACT_FIELDS}
    parsed = ContactForm(values=values)
    errors = parsed.errors
    if values["channel"] not in CHANNELS:
        errors["channel"] = f"channel: one of {', '.join(CHANNELS)}"
    if values["outcome"] not in OUTCOMES:
        errors["outcome"] = f"outcome: one of {', '.join(OUTCOMES)}"
    try:
        naive = datetime.strptime(values["at"], "%Y-%m-%dT%H:%M")
        parsed.at = check_instant(naive.replace(tzinfo=zone_of(policy)), "at")
    except InputError as exc:
        errors["at"] = str(exc)
    except ValueError:
        errors["at"] = "at: a date and time, YYYY-MM-DDTHH:MM"
    if values["account_id"] and values["account_id"] not in accounts:
        errors["account_id"] = f"account_id: {values['account_id']!r} is not one of the customer's"
    for name in ("content", "response"):
        if len(values[name]) > MAX_TEXT:
            errors[name] = f"{name}: at most {MAX_TEXT} characters"
    others = [s.strip() for s in values["staff"].replace("，", ",").split(",") if s.strip()]
    parsed.staff = tuple(sorted({user.username, *others}))
    if len(parsed.staff) > 11:
        errors["staff"] = "staff: at most 10 others"
    amount, due = values["promise_amount"], values["promise_date"]
    if values["outcome"] == "promise_to_pay":
        if not amount:
            errors["promise_amount"] = "promise_amount: a promise to pay needs an amount"
        if not due:
            errors["promise_date"] = "promise_date: a promise to pay needs a date"
        if amount and due:
            try:
                minor: int | None = parse_amount_text(amount, "promise_amount")
            except InputError as exc:
                errors["promise_amount"] = str(exc)
                minor = None
            if minor == 0:
                errors["promise_amount"] = "promise_amount: a positive amount"
                minor = None
            try:
                day: date | None = parse_business_date(due, "promise_date")
            except InputError as exc:
                errors["promise_date"] = str(exc)
                day = None
            if minor is not None and day is not None:
                parsed.promise = (minor, day)
    elif amount or due:
        errors["outcome"] = "outcome: only a promise_to_pay outcome carries a promise"
    return parsed

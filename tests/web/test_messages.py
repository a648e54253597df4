"""The workbench's messages: the core catalogue (`postloan.web.i18n.MESSAGES`) and each business
area's own (`Area.messages`, read by `translate` through the registry).

- every key a template or a workbench module uses is declared in both languages (not left to
  `translate`'s fallbacks: English, then the key itself);
- keys built from a domain value (`t("stage." ~ s)`, `f"kpi.part.{p}"`) resolve for every value;
- a key is declared in one catalogue only: the core's `MESSAGES` wins over an area's, and a later
  area over an earlier one, so a duplicate would silently shadow a text;
- each catalogue has the same keys in English and Chinese.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest

import postloan.web
from postloan import areas
from postloan.churn.rules.frames import RULES
from postloan.churn.rules.pool import EXIT_REASONS
from postloan.churn.web.common import EVIDENCE_FIELDS, SIGNALS
from postloan.collections.contacts import CHANNELS, OUTCOMES
from postloan.collections.kpis import REDUCTION_PARTS
from postloan.collections.messages import MESSAGES as COLLECTIONS_MESSAGES
from postloan.policy import default_policy
from postloan.policy.churn import DEGREES, REASON_CLASSES
from postloan.policy.legal import LEGAL_STAGES
from postloan.policy.model import AccountType, CollectionStage, RiskClass
from postloan.tiering.rules.need import LEVELS as NEED_LEVELS
from postloan.tiering.rules.need import SIGNALS as NEED_SIGNALS
from postloan.web.i18n import LANGS, MESSAGES, translate

WEB = Path(postloan.web.__file__).parent
# A message key: dotted lower-case words (`cust.id`, `kpi.part.`: a prefix a value completes).
KEY_SHAPED = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.?$")
FILE_NAME = re.compile(r"\.(html|css|js|json|csv|toml|py)$")  # "login.html" is no key
# In a template: the first argument of `t(...)` and a label read `L[...]` (the 360° page).
TEMPLATE_CALL = re.compile(r"""\b(?:t\(|L\[)\s*(["'])([^"'\n]*)\1\s*(~)?""")
# Any other quoted string in a template (a key picked from a list: ("phone", "cust.mobile")).
TEMPLATE_STRING = re.compile(r"""(["'])([^"'\n{}<>]*)\1""")


def catalogues() -> dict[str, dict[str, dict[str, str]]]:
    """Name → lang → key → text: the core's and each registered area's."""
    found = {"core": {lang: dict(MESSAGES[lang]) for lang in LANGS}}
    for area in areas.areas():
        found[f"area {area.name}"] = {lang: dict(area.messages.get(lang, {})) for lang in LANGS}
    return found


def all_keys() -> set[str]:
    return {key for c in catalogues().values() for texts in c.values() for key in texts}


def template_files() -> Iterator[Path]:
    yield from sorted((WEB / "templates").rglob("*.html"))
    for area in areas.areas():
        if area.templates is not None:
            yield from sorted(area.templates.rglob("*.html"))


def workbench_modules() -> Iterator[Path]:
    """The workbench's Python modules and every area's page modules (the packages of its
    `web_routers`)."""
    yield from (path for path in sorted(WEB.glob("*.py")) if path.name != "i18n.py")
    folders = set()
    for ref in (ref for area in areas.areas() for ref in area.web_routers):
        spec = importlib.util.find_spec(ref.partition(":")[0])
        assert spec is not None and spec.origin is not None, ref
        folders.add(Path(spec.origin).parent)
    for folder in sorted(folders - {WEB}):
        yield from sorted(folder.glob("*.py"))


def used_keys() -> dict[str, set[str]]:
    """Key (or prefix ending in ".") → where it is used: the templates' `t("…")`/`L["…"]`,
    their other key-shaped strings and the workbench modules' strings whose first word is a
    message namespace, and the areas' navigation labels."""
    namespaces = {key.split(".")[0] for key in all_keys()}
    used: dict[str, set[str]] = {}

    def add(key: str, where: str) -> None:
        used.setdefault(key, set()).add(where)

    def key_like(text: str) -> bool:
        return (
            bool(KEY_SHAPED.match(text))
            and not FILE_NAME.search(text)
            and "." in text
            and text.split(".")[0] in namespaces
        )

    for path in template_files():
        text = path.read_text(encoding="utf-8")
        for match in TEMPLATE_CALL.finditer(text):
            key, built = match.group(2), match.group(3)
            if key and (not built or key.endswith(".")):
                add(key, path.name)
        for match in TEMPLATE_STRING.finditer(text):
            if key_like(match.group(2)):
                add(match.group(2), path.name)
    for path in workbench_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if is_text and key_like(node.value):
                add(node.value, path.name)
    for entry in areas.nav_entries():
        add(entry.label, "nav")
    return used


def test_the_scan_sees_core_and_collections_keys() -> None:
    used = used_keys()
    # Sanity of the scan itself: plain keys, prefixes, labels, Python strings and nav entries.
    for key in ("nav.dashboard", "yes", "cust.profile", "stage.", "kpi.part.", "scope."):
        assert key in used, key
    for key in ("nav.work", "nav.kpis", "case.title", "contact.field.", "legal.close."):
        assert key in used, key
    # ... and the Python strings of an area's page modules (collections.web.kpis).
    for key in ("kpi.portfolio", "kpi.chart.rates"):
        assert "kpis.py" in used.get(key, set()), key


@pytest.mark.parametrize("lang", LANGS)
def test_every_used_key_has_a_text_in_both_languages(lang: str) -> None:
    catalogued = {lang_: set() for lang_ in LANGS}
    for catalogue in catalogues().values():
        for lang_ in LANGS:
            catalogued[lang_] |= set(catalogue[lang_])
    missing = []
    for key, where in sorted(used_keys().items()):
        if key.endswith("."):  # a prefix a value completes: some key must start with it
            if not any(k.startswith(key) for k in catalogued[lang]):
                missing.append((key, sorted(where)))
        elif key not in catalogued[lang] or not translate(lang, key):
            missing.append((key, sorted(where)))
    assert missing == []


def domain_keys() -> Iterator[str]:
    """Keys the pages build from a domain value, for every value the domain has."""
    policy = default_policy()
    yield from (f"class.{c}" for c in get_args(RiskClass))
    yield from (f"acct.{t}" for t in get_args(AccountType))
    yield from (f"stage.{s}" for s in get_args(CollectionStage))
    yield from (f"channel.{c}" for c in CHANNELS)
    yield from (f"outcome.{o}" for o in OUTCOMES)
    yield from (f"kpi.part.{p}" for p in REDUCTION_PARTS)
    yield from (f"legal.stage.{s}" for s in (*LEGAL_STAGES, "closed"))
    yield from (f"legal.cost.{c}" for c in policy.legal.cost_categories)
    items = {i for stage in policy.legal.evidence.values() for i in stage}
    yield from (f"legal.item.{i}" for i in sorted(items | set(policy.legal.contact_log_evidence)))
    yield from (f"churn.rule.{r}" for r in (*RULES, "any"))
    yield from (f"churn.degree.{d}" for d in DEGREES)
    yield from (f"churn.grade.{g}" for g in (1, 2, 3))
    yield from (f"churn.reason.{r}" for r in (*REASON_CLASSES, "none", "suggested", "confirmed"))
    yield from (f"churn.exit.{e}" for e in EXIT_REASONS)
    yield from (f"churn.ev.{f}" for f in EVIDENCE_FIELDS)
    yield from (f"churn.sig.{s}" for s in SIGNALS)
    yield from (f"tiering.need.{n}" for n in NEED_LEVELS)
    yield from (f"tiering.need_signal.{s}" for s in NEED_SIGNALS)


@pytest.mark.parametrize("lang", LANGS)
def test_keys_built_from_domain_values_have_a_text(lang: str) -> None:
    declared = {key for c in catalogues().values() for key in c[lang]}
    assert [key for key in domain_keys() if key not in declared] == []


def test_a_key_is_declared_in_one_catalogue_only() -> None:
    seen: dict[str, str] = {}
    twice = []
    for name, catalogue in catalogues().items():
        for key in {k for texts in catalogue.values() for k in texts}:
            if key in seen:
                twice.append((key, seen[key], name))
            seen[key] = name
    assert twice == []


@pytest.mark.parametrize("name", sorted(catalogues()))
def test_each_catalogue_has_the_same_keys_in_both_languages(name: str) -> None:
    catalogue = catalogues()[name]
    en, zh = set(catalogue["en"]), set(catalogue["zh-CN"])
    assert sorted(en - zh) == []
    assert sorted(zh - en) == []
    assert [key for lang in LANGS for key, text in catalogue[lang].items() if not text] == []


def test_collections_declares_its_messages_and_translate_reads_them() -> None:
    (collections,) = [area for area in areas.areas() if area.name == "collections"]
    assert collections.messages is COLLECTIONS_MESSAGES
    assert len(COLLECTIONS_MESSAGES["en"]) == len(COLLECTIONS_MESSAGES["zh-CN"]) > 200
    assert translate("zh-CN", "nav.work") == "我的任务"
    assert translate("en", "nav.work") == "My queue"
    assert translate("en", "rule.daily_call_cap.detail", count=3, cap=2) == (
        "3 connected calls today (cap 2)"
    )
    # Not in the core catalogue any more: the area owns them.
    assert "nav.work" not in MESSAGES["en"]
    assert "kpi.title" not in MESSAGES["zh-CN"]

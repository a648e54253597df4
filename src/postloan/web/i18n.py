"""The workbench's message catalogue: English and Simplified Chinese (terms from docs/glossary.md).

`MESSAGES` holds the core pages' messages (sign-in, navigation, dashboard, customers, the
customer 360° page, runs, errors) and the keys the areas' pages share with them. Each business
area keeps its own messages (`Area.messages`, e.g. `postloan.collections.messages`), which
`translate` reads through the area registry after `MESSAGES`; a key is declared in one
catalogue only (tests/web/test_messages.py).

Keys are English-ish identifiers; a missing key in one language falls back to English, then to
the key itself, so a forgotten entry shows up as readable text rather than an error.
"""

from __future__ import annotations

from postloan import areas

DEFAULT_LANG = "zh-CN"
LANGS = ("zh-CN", "en")
LANG_COOKIE = "postloan_lang"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "app.title": "Post-loan workbench",
        "nav.dashboard": "Dashboard",
        "nav.customers": "Customers",
        "nav.runs": "Runs",
        "nav.logout": "Log out",
        "lang.switch": "中文",
        "login.title": "Sign in",
        "login.username": "Username",
        "login.password": "Password",
        "login.submit": "Sign in",
        "login.failed": "Sign-in failed: wrong username or password, or the account cannot "
        "sign in at the moment. Ask your administrator if this persists.",
        "login.throttled": "Too many failed sign-ins from this computer or for this username. "
        "Wait a few minutes before trying again.",
        "dash.title": "Portfolio overview",
        "dash.as_of": "As of",
        "dash.scope": "Data scope",
        "dash.no_data": "No account status stored yet: run `postloan run` first.",
        "dash.accounts": "Accounts",
        "dash.outstanding": "Outstanding principal",
        "dash.overdue": "Overdue amount",
        "dash.dpd30": "DPD30+ ratio",
        "dash.npl": "NPL ratio",
        "chart.bucket": "Balance by DPD bucket",
        "chart.class": "Five-category classification",
        "chart.dpd30": "DPD30+ ratio over time",
        "chart.branch": "Accounts by branch",
        "series.outstanding": "Outstanding principal",
        "series.overdue": "Overdue amount",
        "series.accounts": "Accounts",
        "series.dpd30": "DPD30+ ratio",
        "scope.all": "whole portfolio",
        "scope.branch": "branch",
        "scope.assigned": "assigned customers",
        "bucket.current": "Current",
        "class.normal": "Normal",
        "class.special_mention": "Special mention",
        "class.substandard": "Substandard",
        "class.doubtful": "Doubtful",
        "class.loss": "Loss",
        "cust.title": "Customers",
        "cust.search": "Search by customer id, name, or the last digits of a mobile or ID number",
        "cust.search_button": "Search",
        "cust.none": "No customer found.",
        "cust.id": "Customer id",
        "cust.name": "Name",
        "cust.branch": "Branch",
        "cust.mobile": "Mobile",
        "cust.id_number": "ID number",
        "cust.address": "Address",
        "cust.occupation": "Occupation",
        "cust.industry": "Industry",
        "cust.income": "Monthly income",
        "cust.bureau": "Bureau score",
        "cust.consent": "Marketing consent",
        "cust.profile": "Customer 360°",
        "cust.accounts": "Accounts",
        "cust.events": "Events",
        "cust.more": "showing the first {n}",
        "cust.more_of": "showing the newest {n} of {total}",
        "cust.history": "Status history",
        "cust.schedules": "Repayment schedule",
        "cust.statements": "Card statements",
        "cust.payments": "Payments",
        "sched.period": "Period",
        "sched.due": "Due date",
        "sched.principal": "Principal due",
        "sched.interest": "Interest due",
        "sched.covered_principal": "Principal paid",
        "sched.covered_interest": "Interest paid",
        "sched.completed": "Paid off on",
        "sched.days_late": "Days late",
        "st.date": "Statement date",
        "st.balance": "Statement balance",
        "st.minimum": "Minimum due",
        "st.minimum_covered": "Minimum paid",
        "st.paid_in_full": "Paid in full",
        "pay.date": "Value date",
        "pay.channel": "Channel",
        "pay.reverses": "Reverses",
        "acct.id": "Account",
        "acct.type": "Type",
        "acct.outstanding": "Outstanding principal",
        "acct.overdue": "Overdue amount",
        "acct.dpd": "DPD",
        "acct.bucket": "DPD bucket",
        "acct.class": "Five-category class",
        "acct.loan": "Loan",
        "acct.card": "Card",
        "event.date": "Date",
        "event.type": "Type",
        "event.amount": "Amount",
        "reveal.button": "Reveal",
        "reveal.reason": "Reason (recorded in the audit log)",
        "reveal.submit": "Show full value",
        "reveal.masked_note": "Masked values: reveals are audited.",
        "reveal.refused": "Refused",
        "reveal.reason_required": "State a reason of at least {n} characters (a Chinese character"
        " counts as two) with at least {d} different characters.",
        "cust.extra": "Other attributes",
        "cust.identifier_refused": "A full mobile or ID number is not searched: your role sees"
        " them masked.",
        "cust.identifier_lookup": "A full mobile or ID number is not searched: use 'Find by full"
        " mobile or ID number' below (a reason, recorded in the audit log).",
        "lookup.title": "Find by full mobile or ID number",
        "lookup.identifier": "Full mobile or ID number",
        "lookup.submit": "Find (audited)",
        "lookup.invalid": "Enter a whole mobile (11 digits) or ID number (18 characters).",
        "lookup.done": "This lookup is recorded in the audit log.",
        "yes": "yes",
        "no": "no",
        "runs.title": "Run history",
        "runs.none": "No runs yet.",
        "runs.id": "Run",
        "runs.kind": "Kind",
        "runs.dates": "Dates",
        "runs.status": "Status",
        "runs.progress": "Progress",
        "runs.started": "Started",
        "runs.finished": "Finished",
        "runs.rows": "Rows",
        "runs.policy": "Policy version",
        "status.running": "running",
        "status.succeeded": "succeeded",
        "status.failed": "failed",
        "kind.daily": "daily",
        "kind.backfill": "backfill",
        "kind.delete": "date deleted",
        "kind.import": "imported (cluster run)",
        "error.forbidden": "You are not allowed to see this.",
        "error.not_found": "Not found.",
        "role": "Role",
    },
    "zh-CN": {
        "app.title": "贷后管理工作台",
        "nav.dashboard": "首页",
        "nav.customers": "客户查询",
        "nav.runs": "跑批记录",
        "nav.logout": "退出",
        "lang.switch": "English",
        "login.title": "登录",
        "login.username": "用户名",
        "login.password": "密码",
        "login.submit": "登录",
        "login.failed": "登录失败：用户名或密码错误，或该账户暂时无法登录。"
        "如持续出现，请联系管理员。",
        "login.throttled": "此电脑或此用户名登录失败次数过多，请等待几分钟后再试。",
        "dash.title": "资产质量概览",
        "dash.as_of": "数据日期",
        "dash.scope": "数据范围",
        "dash.no_data": "尚无账户状态数据：请先运行 `postloan run`。",
        "dash.accounts": "账户数",
        "dash.outstanding": "贷款余额",
        "dash.overdue": "逾期金额",
        "dash.dpd30": "30 天以上逾期率",
        "dash.npl": "不良率",
        "chart.bucket": "逾期分档余额",
        "chart.class": "五级分类",
        "chart.dpd30": "30 天以上逾期率走势",
        "chart.branch": "分支机构账户数",
        "series.outstanding": "贷款余额",
        "series.overdue": "逾期金额",
        "series.accounts": "账户数",
        "series.dpd30": "30 天以上逾期率",
        "scope.all": "全行",
        "scope.branch": "本分支机构",
        "scope.assigned": "分配给我的客户",
        "bucket.current": "正常",
        "class.normal": "正常",
        "class.special_mention": "关注",
        "class.substandard": "次级",
        "class.doubtful": "可疑",
        "class.loss": "损失",
        "cust.title": "客户查询",
        "cust.search": "按客户号、姓名或手机号、证件号码末几位查询",
        "cust.search_button": "查询",
        "cust.none": "未找到客户。",
        "cust.id": "客户号",
        "cust.name": "姓名",
        "cust.branch": "分支机构",
        "cust.mobile": "手机号",
        "cust.id_number": "证件号码",
        "cust.address": "地址",
        "cust.occupation": "职业",
        "cust.industry": "行业",
        "cust.income": "月收入",
        "cust.bureau": "征信评分",
        "cust.consent": "营销授权同意",
        "cust.profile": "客户 360° 视图",
        "cust.accounts": "账户",
        "cust.events": "事件",
        "cust.more": "仅显示前 {n} 条",
        "cust.more_of": "显示最近 {n} 条（共 {total} 条）",
        "cust.history": "状态历史",
        "cust.schedules": "还款计划",
        "cust.statements": "信用卡账单",
        "cust.payments": "还款记录",
        "sched.period": "期次",
        "sched.due": "应还日",
        "sched.principal": "应还本金",
        "sched.interest": "应还利息",
        "sched.covered_principal": "已还本金",
        "sched.covered_interest": "已还利息",
        "sched.completed": "结清日",
        "sched.days_late": "逾期天数",
        "st.date": "账单日",
        "st.balance": "账单金额",
        "st.minimum": "最低还款额",
        "st.minimum_covered": "已还最低额",
        "st.paid_in_full": "全额还款",
        "pay.date": "入账日",
        "pay.channel": "渠道",
        "pay.reverses": "冲正原交易",
        "acct.id": "账户",
        "acct.type": "类型",
        "acct.outstanding": "剩余本金",
        "acct.overdue": "逾期金额",
        "acct.dpd": "逾期天数",
        "acct.bucket": "逾期分档",
        "acct.class": "五级分类",
        "acct.loan": "贷款",
        "acct.card": "信用卡",
        "event.date": "日期",
        "event.type": "类型",
        "event.amount": "金额",
        "reveal.button": "查看明文",
        "reveal.reason": "查看原因（记入审计日志）",
        "reveal.submit": "显示完整信息",
        "reveal.masked_note": "敏感信息已脱敏；查看明文将记入审计日志。",
        "reveal.refused": "已拒绝",
        "reveal.reason_required": "请填写查看原因：至少 {n} 个字符（一个汉字计两个），"
        "且至少含 {d} 个不同的字符。",
        "cust.extra": "其他属性",
        "cust.identifier_refused": "不支持按完整手机号或证件号码查询：您的角色只能看到脱敏信息。",
        "cust.identifier_lookup": "完整手机号或证件号码不能直接查询：请使用下方“按完整号码查找”"
        "（需填写原因，记入审计日志）。",
        "lookup.title": "按完整手机号或证件号码查找",
        "lookup.identifier": "完整手机号或证件号码",
        "lookup.submit": "查找（记入审计日志）",
        "lookup.invalid": "请输入完整的手机号（11 位）或证件号码（18 位）。",
        "lookup.done": "本次查找已记入审计日志。",
        "yes": "是",
        "no": "否",
        "runs.title": "跑批记录",
        "runs.none": "暂无跑批记录。",
        "runs.id": "批次",
        "runs.kind": "类型",
        "runs.dates": "日期范围",
        "runs.status": "状态",
        "runs.progress": "进度",
        "runs.started": "开始时间",
        "runs.finished": "结束时间",
        "runs.rows": "行数",
        "runs.policy": "策略版本",
        "status.running": "运行中",
        "status.succeeded": "成功",
        "status.failed": "失败",
        "kind.daily": "日批",
        "kind.backfill": "回溯",
        "kind.delete": "删除日期",
        "kind.import": "导入（集群计算）",
        "error.forbidden": "无权访问。",
        "error.not_found": "未找到。",
        "role": "角色",
    },
}

ROLE_NAMES: dict[str, dict[str, str]] = {
    "en": {},
    "zh-CN": {
        "credit_officer": "客户经理",
        "risk_manager": "风险经理",
        "legal_officer": "法务人员",
        "collector": "催收员",
        "collection_supervisor": "催收主管",
        "customer_service": "客服人员",
        "marketing": "营销人员",
        "manager": "管理层",
        "auditor": "审计人员",
        "admin": "系统管理员",
    },
}


def normalise(lang: str | None) -> str:
    """A supported language code for whatever the cookie or URL says."""
    if not lang:
        return DEFAULT_LANG
    lowered = lang.lower()
    if lowered.startswith("zh"):
        return "zh-CN"
    if lowered.startswith("en"):
        return "en"
    return DEFAULT_LANG


def translate(lang: str, key: str, **values: object) -> str:
    """The message in `lang` — the workbench's own, then the business areas' (each area
    keeps its messages: `Area.messages`) — else English, else the key itself."""
    text = (
        MESSAGES.get(lang, {}).get(key)
        or _area_messages(lang).get(key)
        or MESSAGES["en"].get(key)
        or _area_messages("en").get(key)
        or key
    )
    return text.format(**values) if values else text


_AREA_CACHE: dict[str, tuple[int, dict[str, str]]] = {}


def _area_messages(lang: str) -> dict[str, str]:
    cached = _AREA_CACHE.get(lang)
    if cached is None or cached[0] != areas.version():
        cached = (areas.version(), areas.messages(lang))
        _AREA_CACHE[lang] = cached
    return cached[1]


def role_name(lang: str, role: str) -> str:
    return ROLE_NAMES.get(lang, {}).get(role) or role.replace("_", " ")


def bucket_label(lang: str, bucket: str) -> str:
    return translate(lang, "bucket.current") if bucket == "current" else bucket


def class_label(lang: str, risk_class: str) -> str:
    return translate(lang, f"class.{risk_class}")

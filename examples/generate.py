"""Generate the example customer files of the default kamrules pack.

    python examples/generate.py

writes, next to this script:

- customers.csv          about 300 accounts, UTF-8, headers = the pack's field names, ISO dates;
- customers-zh-gbk.csv   the first 40 of them as a messy Chinese CRM export: Chinese headers,
                          GB18030 encoding, "12万" / "1,234.50" / "35%" numbers, 是/否, 2026/11/03 dates,
                          IDs with leading zeros and a few columns the pack does not read.

The output is deterministic: a fixed seed, the standard library's `random` only, and every date relative
to the fixed reference date 2026-11-27 (evaluate with `--as-of 2026-11-27`). Running the script twice
gives byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = dt.date(2026, 11, 27)
SEED = 20261127
N_ACCOUNTS = 300

FIELDS = [
    "account_id", "account_name", "region", "customer_type", "industry", "account_manager",
    "sales", "sales_prev", "gross_profit", "contract_months",
    "strategic_project", "influence", "innovation_capacity", "market_strength",
    "share_of_wallet", "share_of_wallet_prev", "nps", "open_complaints", "oldest_complaint_days",
    "last_contact", "last_order", "order_interval_days", "key_contact_left", "overdue_days",
    "customer_trend", "high_margin_sales", "service_requirement", "price_sensitivity", "partnership_intent",
]

# region -> (weight in the account count, cities used in company names)
REGIONS = {
    "上海": (30, ["上海", "浦东", "松江"]),
    "北京": (28, ["北京", "海淀", "朝阳"]),
    "广东": (36, ["广州", "深圳", "东莞", "佛山"]),
    "浙江": (34, ["杭州", "宁波", "温州", "绍兴"]),
    "江苏": (36, ["苏州", "南京", "无锡", "常州"]),
    "山东": (26, ["济南", "青岛", "烟台"]),
    "四川": (22, ["成都", "绵阳"]),
    "湖北": (22, ["武汉", "宜昌"]),
    "河南": (20, ["郑州", "洛阳"]),
    "福建": (20, ["福州", "厦门", "泉州"]),
    "陕西": (8, ["西安", "宝鸡"]),   # one customer dominates this region (see _shape_regions)
    "辽宁": (10, ["沈阳", "大连"]),  # concentrated: two customers share most of it
}

CUSTOMER_TYPES = {  # type -> weight
    "enterprise": 40, "retailer": 17, "wholesaler": 15, "consumer": 12, "government": 8, "non_profit": 8,
}

INDUSTRIES = {
    "enterprise": ["Manufacturing", "Automotive", "Electronics", "Energy", "Construction", "Food & beverage",
                   "Logistics", "Chemicals"],
    "retailer": ["Retail"],
    "wholesaler": ["Wholesale distribution"],
    "consumer": ["Consumer"],
    "government": ["Public sector"],
    "non_profit": ["Education", "Healthcare"],
}

INDUSTRY_ZH = {
    "Manufacturing": "制造业", "Automotive": "汽车", "Electronics": "电子", "Energy": "能源",
    "Construction": "建筑", "Food & beverage": "食品饮料", "Logistics": "物流", "Chemicals": "化工",
    "Retail": "零售", "Wholesale distribution": "批发分销", "Consumer": "个人消费",
    "Public sector": "公共事业", "Education": "教育", "Healthcare": "医疗",
}

TYPE_ZH = {"enterprise": "企业", "government": "政府", "non_profit": "非营利组织", "wholesaler": "批发商",
           "retailer": "零售商", "consumer": "重点消费者"}
TREND_ZH = {"growing": "增长", "stable": "稳定", "shrinking": "萎缩", "distressed": "经营困难"}

MANAGERS = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴婷",
            "Michael Chen", "Linda Wang"]

NAME_WORDS = ["恒达", "华信", "中联", "金桥", "瑞丰", "宏远", "鼎盛", "天成", "万通", "嘉和", "新世纪", "长江",
              "东方", "永安", "汇丰源", "博远", "立信", "海天", "正泰", "创新", "精工", "远航", "百利", "同创"]
ENTERPRISE_TAILS = {
    "Manufacturing": ["精密机械有限公司", "智能装备有限公司", "机械制造有限公司"],
    "Automotive": ["汽车零部件有限公司", "汽车配件股份有限公司"],
    "Electronics": ["电子科技有限公司", "微电子股份有限公司"],
    "Energy": ["新能源股份有限公司", "能源集团有限公司"],
    "Construction": ["建设集团有限公司", "建筑工程有限公司"],
    "Food & beverage": ["食品有限公司", "饮料股份有限公司"],
    "Logistics": ["物流有限公司", "国际货运有限公司"],
    "Chemicals": ["化工有限公司", "新材料股份有限公司"],
}
WHOLESALE_TAILS = ["商贸有限公司", "供应链管理有限公司", "贸易有限公司", "批发有限公司"]
RETAIL_TAILS = ["超市连锁有限公司", "百货有限公司", "便利店连锁", "家居广场", "电器连锁有限公司"]
GOV_TAILS = ["市公共资源交易中心", "市交通运输局", "市教育局采购中心", "市卫生健康委员会", "市政府采购中心"]
NONPROFIT_TAILS = {"Education": ["理工大学", "职业技术学院", "师范大学"],
                   "Healthcare": ["第一人民医院", "中心医院", "医疗慈善基金会"]}
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭"]
GIVEN = ["建国", "晓明", "丽华", "志强", "秀英", "海涛", "雪梅", "俊杰", "婷婷", "国庆", "红霞", "子涵"]
ENGLISH_NAMES = {
    "Manufacturing": ["Pacific Components Ltd.", "Northwind Industrial Co.", "Atlas Machinery Ltd.",
                      "Summit Precision Co."],
    "Electronics": ["Bluepeak Electronics Ltd."],
    "Automotive": ["Orion Automotive Parts Co."],
    "Energy": ["Greenfield Energy Ltd."],
    "Logistics": ["Harbor Logistics Ltd."],
    "Chemicals": ["Crestline Chemicals Co."],
    "Food & beverage": ["Silverline Foods Co."],
    "retailer": ["Sunrise Retail Co.", "Everyday Mart Ltd.", "Lotus Home Stores", "Metro Value Stores"],
    "wholesaler": ["Evergreen Trading Co.", "Unity Distribution Ltd.", "Prime Supply Chain Co."],
    "consumer": ["Chen Wei (individual)", "Grace Liu (individual)", "David Zhou (individual)"],
    "government": ["Municipal Procurement Centre"],
    "Education": ["Lakeside University"],
    "Healthcare": ["Riverside Medical Foundation"],
}


def weighted(rng: random.Random, table: dict) -> str:
    keys = list(table)
    weights = [table[k] if not isinstance(table[k], tuple) else table[k][0] for k in keys]
    return rng.choices(keys, weights=weights, k=1)[0]


def company_name(rng: random.Random, ctype: str, industry: str, region: str, used: set) -> str:
    english = ENGLISH_NAMES.get(industry if ctype in ("enterprise", "non_profit") else ctype)
    for _ in range(50):
        if rng.random() < 0.15 and english:
            name = rng.choice(english)
        else:
            city = rng.choice(REGIONS[region][1])
            word = rng.choice(NAME_WORDS)
            if ctype == "enterprise":
                name = city + word + rng.choice(ENTERPRISE_TAILS[industry])
            elif ctype == "wholesaler":
                name = city + word + rng.choice(WHOLESALE_TAILS)
            elif ctype == "retailer":
                name = city + word + rng.choice(RETAIL_TAILS)
            elif ctype == "government":  # a city government, not a district: 上海市…, 成都市…
                name = REGIONS[region][1][0] + rng.choice(GOV_TAILS)
            elif ctype == "non_profit":
                name = city + rng.choice(NONPROFIT_TAILS[industry])
            else:
                name = rng.choice(SURNAMES) + rng.choice(GIVEN) + "（个人）"
        if name not in used:
            used.add(name)
            return name
    name = f"{name} {len(used)}"
    used.add(name)
    return name


def money(value: float) -> float:
    return round(value, 2)


def make_account(rng: random.Random, index: int, used_names: set) -> dict:
    """One account with realistic, mutually consistent facts (sales set later by rank)."""
    region = weighted(rng, REGIONS)
    ctype = weighted(rng, CUSTOMER_TYPES)
    industry = rng.choice(INDUSTRIES[ctype])
    return {
        "account_id": f"A{index:05d}",
        "account_name": company_name(rng, ctype, industry, region, used_names),
        "region": region,
        "customer_type": ctype,
        "industry": industry,
        "account_manager": rng.choice(MANAGERS),
    }


def fill_facts(rng: random.Random, acc: dict, size_rank: float) -> None:
    """Facts that depend on the account's size; size_rank 0 = largest, 1 = smallest."""
    ctype = acc["customer_type"]
    sales = acc["sales"]
    big = size_rank < 0.2

    # year-on-year: most stable-to-growing, some declining, new accounts without a prior year
    roll = rng.random()
    if roll < 0.05:
        acc["sales_prev"] = None  # new account
    else:
        if roll < 0.16:
            growth = rng.uniform(-0.55, -0.21)
        elif roll < 0.24:
            growth = rng.uniform(0.25, 0.9)
        else:
            growth = rng.gauss(0.04, 0.09)
        acc["sales_prev"] = money(sales / (1 + growth))

    margin_mid = {"retailer": 0.11, "wholesaler": 0.09, "consumer": 0.34, "government": 0.27,
                  "non_profit": 0.24, "enterprise": 0.22}[ctype]
    margin = max(0.02, rng.gauss(margin_mid, 0.08))
    acc["gross_profit"] = money(sales * margin) if rng.random() > 0.12 else None

    if rng.random() < 0.08:
        acc["contract_months"] = None
    elif rng.random() < (0.75 if big else 0.35):
        acc["contract_months"] = rng.choice([12, 18, 24, 24, 36, 36, 48, 60])
    elif rng.random() < 0.5:
        acc["contract_months"] = rng.choice([3, 6, 6, 9])
    else:
        acc["contract_months"] = 0

    def flag(p_big: float, p_small: float) -> bool | None:
        if rng.random() < 0.1:
            return None
        return rng.random() < (p_big if big else p_small)

    acc["strategic_project"] = flag(0.12, 0.0)
    acc["influence"] = flag(0.08, 0.01 if ctype in ("government", "non_profit", "consumer") else 0.0)
    acc["innovation_capacity"] = flag(0.06, 0.0)
    acc["market_strength"] = flag(0.08 if ctype == "wholesaler" else 0.03, 0.0)

    # share of wallet: primary suppliers, dual sourcing (0.3-0.7), secondary; about 30% unknown
    if rng.random() < 0.3:
        acc["share_of_wallet"] = acc["share_of_wallet_prev"] = None
    else:
        kind = rng.random()
        sow = rng.uniform(0.72, 1.0) if kind < 0.45 else rng.uniform(0.31, 0.69) if kind < 0.8 else rng.uniform(0.05, 0.29)
        sow = round(sow, 2)
        prev = sow + (rng.uniform(0.11, 0.25) if rng.random() < 0.1 else rng.uniform(-0.06, 0.06))
        acc["share_of_wallet"] = sow
        acc["share_of_wallet_prev"] = round(min(1.0, max(0.0, prev)), 2)

    acc["nps"] = None if rng.random() < 0.25 else min(10, max(0, round(rng.gauss(8.0, 1.5))))
    complaints = rng.choices([0, 1, 2, 3], weights=[85, 11, 3, 1])[0]
    acc["open_complaints"] = complaints
    acc["oldest_complaint_days"] = rng.randint(2, 60) if complaints else None

    contact_days = rng.randint(2, 50) if big else rng.randint(5, 120)
    if rng.random() < 0.08:
        contact_days += rng.randint(30, 80)
    acc["last_contact"] = None if rng.random() < 0.06 else AS_OF - dt.timedelta(days=contact_days)
    interval = rng.choice([7, 14, 14, 21, 30, 30, 30, 45, 60, 90])
    acc["order_interval_days"] = interval if rng.random() > 0.1 else None
    gap = rng.randint(0, interval) if rng.random() < 0.92 else rng.randint(2 * interval + 1, 4 * interval)
    acc["last_order"] = AS_OF - dt.timedelta(days=gap)
    acc["key_contact_left"] = rng.random() < 0.03
    acc["overdue_days"] = 0 if rng.random() < 0.86 else rng.choice([5, 12, 18, 25, 35, 45, 60, 95])
    acc["customer_trend"] = None if rng.random() < 0.1 else rng.choices(
        ["growing", "stable", "shrinking", "distressed"], weights=[22, 66, 9, 3])[0]

    if rng.random() < 0.25:
        for name in ("high_margin_sales", "service_requirement", "price_sensitivity", "partnership_intent"):
            acc[name] = None
    else:
        acc["high_margin_sales"] = money(sales * rng.uniform(0.05, 0.5))
        acc["service_requirement"] = rng.randint(1, 5)
        acc["price_sensitivity"] = rng.randint(1, 5)
        acc["partnership_intent"] = rng.randint(1, 5)
    # sales decline that comes with a shrinking customer business
    if acc["customer_trend"] in ("shrinking", "distressed") and acc["sales_prev"] and rng.random() < 0.5:
        acc["sales_prev"] = money(sales / rng.uniform(0.55, 0.85))
    if rng.random() < 0.05:
        acc["account_manager"] = None
    if rng.random() < 0.04:
        acc["industry"] = None
    if rng.random() < 0.03:
        acc["customer_type"] = None


def sales_curve(rng: random.Random, n: int) -> list:
    """Skewed, Pareto-like sales: a few very large accounts and a long tail (descending)."""
    values = [math.exp(rng.gauss(11.2, 2.2)) for _ in range(n)]
    values = [min(max(v, 1800.0), 30_000_000.0) for v in values]
    values.sort(reverse=True)
    # ERP exports often carry whole amounts: round about a third of them to the hundred
    return [float(round(v, -2)) if rng.random() < 0.35 else money(v) for v in values]


def _shape_regions(accounts: list) -> None:
    """Make 陕西 dominated by one customer and 辽宁 concentrated between two."""
    shaanxi = sorted((a for a in accounts if a["region"] == "陕西"), key=lambda a: -a["sales"])
    rest = sum(a["sales"] for a in shaanxi[1:])
    if shaanxi and shaanxi[0]["sales"] < 1.4 * rest:
        shaanxi[0]["sales"] = money(1.4 * rest)  # ~58% of the region
    liaoning = sorted((a for a in accounts if a["region"] == "辽宁"), key=lambda a: -a["sales"])
    if len(liaoning) >= 3:
        rest = sum(a["sales"] for a in liaoning[2:])
        liaoning[0]["sales"] = money(max(liaoning[0]["sales"], 1.7 * rest))
        liaoning[1]["sales"] = money(max(liaoning[1]["sales"], 1.4 * rest))


def _threshold_accounts(accounts: list) -> None:
    """A few accounts exactly on published thresholds, so users can see both sides of each."""
    by_id = {a["account_id"]: a for a in accounts}

    def set_(account_id: str, **values) -> None:
        by_id[account_id].update(values)

    # exactly 20% below a year earlier (a signal), and 19% below (none)
    set_("A00120", sales=80000.0, sales_prev=100000.0, customer_trend="stable")
    set_("A00121", sales=81000.0, sales_prev=100000.0, customer_trend="stable")
    # NPS exactly 6 (detractor) and 7 (passive)
    set_("A00130", nps=6)
    set_("A00131", nps=7)
    # receivables exactly 30 days overdue (no signal) and 31 (signal)
    set_("A00140", overdue_days=30)
    set_("A00141", overdue_days=31)
    # complaint open exactly 30 days (no signal) and 31 (signal)
    set_("A00150", open_complaints=1, oldest_complaint_days=30)
    set_("A00151", open_complaints=1, oldest_complaint_days=31)
    # last order exactly 2x the usual interval ago (no signal) and one day more (signal)
    set_("A00160", order_interval_days=30, last_order=AS_OF - dt.timedelta(days=60))
    set_("A00161", order_interval_days=30, last_order=AS_OF - dt.timedelta(days=61))
    # share of wallet exactly 30% (shared) and 70% (primary); a drop of exactly 10 points
    set_("A00170", share_of_wallet=0.30, share_of_wallet_prev=0.32)
    set_("A00171", share_of_wallet=0.70, share_of_wallet_prev=0.70)
    set_("A00172", share_of_wallet=0.45, share_of_wallet_prev=0.55)
    # continuous contract of exactly 12 months
    set_("A00005", contract_months=12)
    # the two largest accounts: no contact for exactly 60 days (no signal) and 61 (signal)
    largest = sorted(accounts, key=lambda a: -a["sales"])
    largest[0]["last_contact"] = AS_OF - dt.timedelta(days=60)
    largest[1]["last_contact"] = AS_OF - dt.timedelta(days=61)


def build_accounts() -> list:
    rng = random.Random(SEED)
    used: set = set()
    accounts = [make_account(rng, i + 1, used) for i in range(N_ACCOUNTS)]
    curve = sales_curve(rng, N_ACCOUNTS)
    order = list(range(N_ACCOUNTS))
    rng.shuffle(order)  # account IDs are not in sales order
    for rank, index in enumerate(order):
        accounts[index]["sales"] = curve[rank]
    _shape_regions(accounts)
    ranked = sorted(range(N_ACCOUNTS), key=lambda i: -accounts[i]["sales"])
    for position, index in enumerate(ranked):
        fill_facts(rng, accounts[index], position / N_ACCOUNTS)
    _threshold_accounts(accounts)
    return accounts


# ------------------------------------------------------------------------------------------- writing


def plain(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text
    return str(value)


def write_customers(accounts: list, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(FIELDS)
        for acc in accounts:
            writer.writerow([plain(acc.get(name)) for name in FIELDS])


ZH_COLUMNS = [  # Chinese header, field (or None for a column the pack does not read)
    ("客户编码", "account_id"), ("客户名称", "account_name"), ("客户级别", None), ("客户类型", "customer_type"),
    ("行业", "industry"), ("所属区域", "region"), ("负责人", "account_manager"), ("销售额", "sales"),
    ("去年同期销售额", "sales_prev"), ("毛利", "gross_profit"), ("年营业收入(万元)", None),
    ("连续合同月数", "contract_months"), ("战略项目", "strategic_project"), ("标杆客户", "influence"),
    ("创新能力", "innovation_capacity"), ("市场开拓能力", "market_strength"), ("钱包份额", "share_of_wallet"),
    ("去年同期份额", "share_of_wallet_prev"), ("NPS得分", "nps"), ("未结投诉数", "open_complaints"),
    ("最久未结投诉天数", "oldest_complaint_days"), ("最近拜访时间", "last_contact"), ("未拜访天数", None),
    ("最近下单日期", "last_order"), ("订货周期", "order_interval_days"), ("关键联系人离职", "key_contact_left"),
    ("逾期天数", "overdue_days"), ("经营状况", "customer_trend"), ("高毛利产品销售额", "high_margin_sales"),
    ("服务要求", "service_requirement"), ("价格敏感度", "price_sensitivity"), ("合作意愿", "partnership_intent"),
]


def messy_money(value: float | None, i: int) -> str:
    """Amounts as Chinese exports show them: 12万, 1,234.50, ¥1,234 or plain."""
    if value is None:
        return ""
    if value == round(value, -2) and i % 3 != 1:
        return f"{value / 10000:g}万"
    if i % 4 == 1:
        return f"{value:,.2f}"
    if i % 4 == 2 and value == round(value):
        return f"¥{value:,.0f}"
    return plain(value)


def messy_value(field: str | None, acc: dict, header: str, i: int) -> str:
    if field is None:
        if header == "客户级别":  # the CRM's own grading: not read by the pack
            return acc["crm_level"]
        if header == "年营业收入(万元)":  # the customer's own revenue: not our sales
            return f"{round(acc['sales'] * (40 + i % 7 * 13) / 10000):,}"
        if header == "未拜访天数":
            last = acc.get("last_contact")
            return "" if last is None else str((AS_OF - last).days)
    value = acc.get(field)
    if value is None:
        return ""
    if field == "account_id":
        return value[1:]  # "A00042" -> "00042": leading zeros must survive
    if field in ("sales", "sales_prev", "gross_profit", "high_margin_sales"):
        return messy_money(value, i)
    if field in ("share_of_wallet", "share_of_wallet_prev"):
        return f"{value * 100:g}%" if i % 2 == 0 else plain(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return value.strftime("%Y/%m/%d") if i % 3 else value.isoformat()
    if field == "customer_type":
        return TYPE_ZH[value]
    if field == "customer_trend":
        return TREND_ZH[value]
    if field == "industry":
        return INDUSTRY_ZH[value]
    return plain(value)


def write_customers_zh(accounts: list, path: Path) -> None:
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")  # as Excel on Windows saves it
        writer.writerow([header for header, _ in ZH_COLUMNS])
        ranked = sorted(accounts, key=lambda a: -a["sales"])
        levels = {a["account_id"]: "VIP" if r < 15 else "A" if r < 60 else "B" if r < 150 else "C"
                  for r, a in enumerate(ranked)}
        for i, acc in enumerate(accounts[:40]):
            acc = {**acc, "crm_level": levels[acc["account_id"]]}
            writer.writerow([messy_value(field, acc, header, i) for header, field in ZH_COLUMNS])


def main() -> None:
    accounts = build_accounts()
    write_customers(accounts, HERE / "customers.csv")
    write_customers_zh(accounts, HERE / "customers-zh-gbk.csv")
    total = sum(a["sales"] for a in accounts)
    top = max(a["sales"] for a in accounts)
    print(f"wrote {len(accounts)} accounts to {HERE / 'customers.csv'} "
          f"(largest {top / total:.1%} of sales) and 40 to {HERE / 'customers-zh-gbk.csv'}")


if __name__ == "__main__":
    main()

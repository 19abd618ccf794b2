"""Synthetic portfolios for benchmarks: every field of the default pack, realistic skew, fast to make."""

from __future__ import annotations

import numpy as np
import pandas as pd

REGIONS = ["华东", "华南", "华北", "华中", "西南", "西北", "东北", "上海", "北京", "广东", "浙江", "江苏"]
TYPES = ["enterprise", "government", "non_profit", "wholesaler", "retailer", "consumer"]
TRENDS = ["growing", "stable", "shrinking", "distressed"]


def synthetic_customers(n: int, seed: int = 7) -> pd.DataFrame:
    """`n` accounts with the default pack's fields, typed as the reader delivers them."""
    rng = np.random.default_rng(seed)
    sales = np.round(rng.pareto(1.16, n) * 20_000 + 1_000, 2)
    growth = rng.normal(0.05, 0.25, n)
    as_of = np.datetime64("2026-11-27")

    def maybe(values, share_missing=0.1):
        values = pd.Series(values)
        return values.where(rng.random(n) > share_missing)

    def flags(p):
        return pd.Series(rng.random(n) < p).astype("boolean").where(rng.random(n) > 0.1, pd.NA)

    frame = pd.DataFrame({
        "account_id": [f"{i:07d}" for i in range(n)],
        "account_name": [f"Account {i}" for i in range(n)],
        "region": rng.choice(REGIONS, n),
        "customer_type": rng.choice(TYPES, n),
        "industry": rng.choice(["Manufacturing", "Retail", "Education", "Energy"], n),
        "account_manager": rng.choice(["王芳", "Li Lei", "赵磊", "Linda Wang"], n),
        "sales": sales,
        "sales_prev": maybe(np.round(sales / (1 + growth), 2)),
        "gross_profit": maybe(np.round(sales * rng.uniform(0.05, 0.45, n), 2)),
        "contract_months": maybe(rng.choice([0, 6, 12, 24, 36], n).astype(float)),
        "strategic_project": flags(0.05),
        "influence": flags(0.05),
        "innovation_capacity": flags(0.08),
        "market_strength": flags(0.08),
        "share_of_wallet": maybe(np.round(rng.uniform(0.1, 1.0, n), 2)),
        "share_of_wallet_prev": maybe(np.round(rng.uniform(0.1, 1.0, n), 2)),
        "nps": maybe(rng.integers(0, 11, n).astype(float)),
        "open_complaints": maybe(rng.poisson(0.3, n).astype(float)),
        "oldest_complaint_days": maybe(rng.integers(0, 90, n).astype(float), 0.7),
        "last_contact": maybe(as_of - rng.integers(0, 200, n).astype("timedelta64[D]")),
        "last_order": maybe(as_of - rng.integers(0, 200, n).astype("timedelta64[D]")),
        "order_interval_days": maybe(rng.choice([14, 30, 45, 60, 90], n).astype(float)),
        "key_contact_left": flags(0.05),
        "overdue_days": maybe(rng.choice([0, 0, 0, 15, 31, 60], n).astype(float)),
        "customer_trend": rng.choice(TRENDS, n, p=[0.3, 0.5, 0.15, 0.05]),
        "high_margin_sales": maybe(np.round(sales * rng.uniform(0, 0.5, n), 2)),
        "service_requirement": maybe(rng.integers(1, 6, n).astype(float)),
        "price_sensitivity": maybe(rng.integers(1, 6, n).astype(float)),
        "partnership_intent": maybe(rng.integers(1, 6, n).astype(float)),
    })
    for column in ("last_contact", "last_order"):
        frame[column] = pd.to_datetime(frame[column])
    return frame

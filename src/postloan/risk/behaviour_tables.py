"""The behaviour score's table (risk branch migration `r003`).

`risk_behaviour_scores`: the RK-2 behaviour score per customer per stored date, derived by the
daily run's `risk.behaviour` step with the one approved behaviour model — the model id names
exactly the bins and points that made the score (`risk_models.model_id`); the PD is the
model's (PDO scaling), the band is its score band, the reasons the characteristics that lost
most points against their best bin; EAD, LGD, expected loss and the classification matrix's
class (never better than the accounts' five-category class) as `risk.rules.expected_loss`.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Float, ForeignKey, Index, Integer, String, Table

from postloan.store.schema import ID, metadata

risk_behaviour_scores = Table(
    "risk_behaviour_scores",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("customer_id", ID, primary_key=True),
    Column("model_id", String(64), ForeignKey("risk_models.model_id"), nullable=False),
    Column("score", Float, nullable=False),
    Column("pd", Float, nullable=False),
    Column("band", Integer, nullable=False),
    Column("reason_1", String(64)),
    Column("reason_2", String(64)),
    Column("reason_3", String(64)),
    Column("ead", BigInteger, nullable=False),  # 分: outstanding principal + overdue interest
    Column("lgd", Float),  # EAD-weighted LGD of its account types; null: nothing exposed
    Column("el", BigInteger, nullable=False),  # 分: PD × LGD × EAD
    Column("pd_band", Integer, nullable=False),
    Column("exposure_band", Integer, nullable=False),
    Column("matrix_class", String(16), nullable=False),
    Column("risk_class", String(16), nullable=False),  # the worse of the matrix's and the floor
    Column("run_id", Integer, ForeignKey("runs.run_id"), nullable=False),
    Index("ix_risk_behaviour_scores_customer_id_as_of", "customer_id", "as_of"),
)

risk_behaviour_bins = Table(
    "risk_behaviour_bins",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("model_id", String(64), ForeignKey("risk_models.model_id"), primary_key=True),
    Column("characteristic", String(64), primary_key=True),
    Column("bin", Integer, primary_key=True),
    Column("customers", Integer, nullable=False),
    Column("run_id", Integer, ForeignKey("runs.run_id"), nullable=False),
)

"""Card transactions for the demo: scikit-learn's ``make_classification``, given a meaning.

Nothing is downloaded. A seeded ``make_classification`` draw gives six latent columns with a
known class structure (fraud / legit); each latent column is turned into a feature a fraud team
would recognise, by a fixed monotone map, so the class signal is kept:

==================  =========================================  ==============================
feature             from the latent column                     what it looks like
==================  =========================================  ==============================
``amount``          ``exp(3.6 + 0.7 z0)``                      euros, log-normal, median ~37
``account_age_days`` ``365 exp(0.6 z1)``                       days, log-normal, median ~365
``distance_km``     ``exp(1.5 + 0.9 z2)``                      km from home, median ~4.5
``transactions_24h`` ``round(3 + 2 z3)``, at least 0          a count
``merchant_risk``   ``1 / (1 + exp(-z4))``                     a score in (0, 1)
``channel``         tertiles of ``z5``                         ``web``, ``app``, ``pos``
==================  =========================================  ==============================

The *production* rows are further draws of the same structure (the same ``random_state``, one
large draw cut in two), so a model trained on the first part is honestly tested on the rest.
Drift is applied to production rows by :func:`apply_drift` (the label stays the latent truth,
so drifted inputs make the model worse, as they would in life).

>>> data = TransactionData.generate(seed=0, n_train=2_000, n_validation=500, n_production=1_000)
>>> sorted(data.train.features)[:3], len(data.train), len(data.production)
(['account_age_days', 'amount', 'channel'], 2000, 1000)
>>> set(data.train.labels) == {"fraud", "legit"}
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "CATEGORICAL_FEATURES",
    "CHANNELS",
    "FEATURES",
    "LABELS",
    "NEW_CHANNEL",
    "NUMERIC_FEATURES",
    "Rows",
    "TransactionData",
    "apply_drift",
]

NUMERIC_FEATURES = (
    "amount",
    "account_age_days",
    "distance_km",
    "transactions_24h",
    "merchant_risk",
)
CATEGORICAL_FEATURES = ("channel",)
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES
CHANNELS = ("web", "app", "pos")
NEW_CHANNEL = "partner_api"
"""The category production starts to send that training never saw."""
LABELS = ("legit", "fraud")


@dataclass
class Rows:
    """Rows of transactions: one array per feature, and the true label of each row."""

    features: dict[str, np.ndarray]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, index: np.ndarray) -> Rows:
        """The rows at ``index`` (a copy)."""
        return Rows({k: v[index].copy() for k, v in self.features.items()}, self.labels[index])

    def records(self) -> list[dict[str, Any]]:
        """One dict per row, with plain Python values (what a service receives as JSON)."""
        columns = {k: v.tolist() for k, v in self.features.items()}
        return [
            dict(zip(columns, values, strict=True))
            for values in zip(*columns.values(), strict=True)
        ]


def _features(latent: np.ndarray) -> dict[str, np.ndarray]:
    z = latent
    channel_edges = np.quantile(z[:, 5], [1 / 3, 2 / 3])
    return {
        "amount": np.round(np.exp(3.6 + 0.7 * z[:, 0]), 2),
        "account_age_days": np.round(365.0 * np.exp(0.6 * z[:, 1]), 1),
        "distance_km": np.round(np.exp(1.5 + 0.9 * z[:, 2]), 1),
        "transactions_24h": np.maximum(np.round(3.0 + 2.0 * z[:, 3]), 0.0),
        "merchant_risk": np.round(1.0 / (1.0 + np.exp(-z[:, 4])), 4),
        "channel": np.asarray(CHANNELS, dtype=object)[np.searchsorted(channel_edges, z[:, 5])],
    }


# Which latent column becomes which feature, by how well it separates the classes: the two
# strongest become amount and distance (the features that drift), then the channel, so the
# drift and the new category hurt the model whatever the seed. Then the sign of each column is
# set so the features mean what their names say: fraud has larger amounts, distances,
# transaction counts and merchant risk, and younger accounts.
_BY_STRENGTH = (0, 2, 5, 4, 3, 1)  # latent slot (see _features) of the 1st, 2nd ... strongest
_FRAUD_DIRECTION = (1.0, -1.0, 1.0, 1.0, 1.0, 1.0)


def _oriented(latent: np.ndarray, y: np.ndarray) -> np.ndarray:
    gap = latent[y == 1].mean(axis=0) - latent[y == 0].mean(axis=0)
    strength = np.abs(gap) / latent.std(axis=0)
    ordered = np.empty_like(latent)
    for slot, column in zip(_BY_STRENGTH, np.argsort(-strength, kind="stable"), strict=True):
        sign = 1.0 if np.sign(gap[column]) == _FRAUD_DIRECTION[slot] else -1.0
        ordered[:, slot] = sign * latent[:, column]
    return ordered


@dataclass
class TransactionData:
    """Training rows, validation rows (to measure the model before it ships) and a pool of
    production rows, from one seeded draw."""

    train: Rows
    validation: Rows
    production: Rows

    @classmethod
    def generate(
        cls,
        *,
        seed: int,
        n_train: int = 6_000,
        n_validation: int = 2_000,
        n_production: int = 20_000,
    ) -> TransactionData:
        from sklearn.datasets import make_classification

        latent, y = make_classification(
            n_samples=n_train + n_validation + n_production,
            n_features=6,
            n_informative=5,
            n_redundant=1,
            n_clusters_per_class=2,
            weights=[0.8],
            class_sep=1.1,
            flip_y=0.02,
            random_state=seed,
        )
        features = _features(_oriented(latent, y))
        labels = np.asarray(LABELS, dtype=object)[y]
        rows = Rows(features, labels)
        cut = n_train + n_validation
        return cls(
            rows.take(np.arange(n_train)),
            rows.take(np.arange(n_train, cut)),
            rows.take(np.arange(cut, len(y))),
        )


def apply_drift(rows: Rows, *, drift: np.ndarray, partner: np.ndarray) -> Rows:
    """Production rows as they arrive at their moment of the scenario (changed in place).

    ``drift`` (one value in [0, 1] per row) is how far the gradual drift has gone when the row
    arrives: amounts grow by up to 80 % (a richer customer base) and distances double, plus
    up to 12 km (the travel season). Rows where ``partner`` is true come through the new
    ``partner_api`` channel instead of the one they had.
    """
    drift = np.asarray(drift, dtype=float)
    rows.features["amount"] = np.round(rows.features["amount"] * (1.0 + 0.8 * drift), 2)
    distance = rows.features["distance_km"] * (1.0 + 1.0 * drift) + 12.0 * drift
    rows.features["distance_km"] = np.round(distance, 1)
    rows.features["channel"][np.asarray(partner, dtype=bool)] = NEW_CHANNEL
    return rows

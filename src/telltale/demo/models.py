"""The two versions of the demo's fraud model: real scikit-learn pipelines, trained at start.

* ``1.0.0``: gradient-boosted trees (100 of depth 3) on log-scaled numbers and a one-hot
  ``channel``.
* ``1.1.0``: the retrain, 200 deeper trees on row subsamples (rolled out as a canary).

Both impute missing numbers with the training median (so a missing feature never raises) and
ignore categories they never saw (so ``partner_api`` silently loses its channel signal).

>>> from telltale.demo.dataset import TransactionData
>>> data = TransactionData.generate(seed=0, n_train=2_000, n_validation=500, n_production=500)
>>> model = train_model("1.0.0", data.train, seed=0)
>>> 0.8 < model.accuracy(data.production) <= 1.0
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from telltale.demo.dataset import CATEGORICAL_FEATURES, LABELS, NUMERIC_FEATURES, Rows

__all__ = ["VERSIONS", "FraudModel", "train_model"]

VERSIONS = ("1.0.0", "1.1.0")


@dataclass
class FraudModel:
    """A fitted pipeline and its version; ``fraud_probability`` is what the service calls."""

    version: str
    pipeline: Any

    def frame(self, rows: Rows) -> Any:
        import pandas as pd

        return pd.DataFrame({name: rows.features[name] for name in self.feature_names})

    @property
    def feature_names(self) -> tuple[str, ...]:
        return NUMERIC_FEATURES + CATEGORICAL_FEATURES

    def fraud_probability(self, rows: Rows) -> np.ndarray:
        """P(fraud) for each row."""
        fraud = list(self.pipeline.classes_).index("fraud")
        return np.asarray(self.pipeline.predict_proba(self.frame(rows))[:, fraud], dtype=float)

    def accuracy(self, rows: Rows) -> float:
        predicted = np.where(self.fraud_probability(rows) >= 0.5, LABELS[1], LABELS[0])
        return float(np.mean(predicted == rows.labels))


def train_model(version: str, rows: Rows, *, seed: int) -> FraudModel:
    """Fit version ``version`` (one of :data:`VERSIONS`) on ``rows``."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    if version not in VERSIONS:
        raise ValueError(f"version {version!r} is not one of {', '.join(VERSIONS)}")
    numeric = make_pipeline(
        SimpleImputer(strategy="median"),
        FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
        StandardScaler(),
    )
    columns = ColumnTransformer(
        [
            ("numeric", numeric, list(NUMERIC_FEATURES)),
            (
                "channel",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                list(CATEGORICAL_FEATURES),
            ),
        ]
    )
    # GradientBoostingClassifier, not HistGradientBoosting: it predicts a few rows in ~1 ms,
    # where the histogram version's thread pool costs ~8 ms per call.
    if version == "1.0.0":
        classifier = GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=seed)
    else:
        classifier = GradientBoostingClassifier(
            n_estimators=200, max_depth=4, subsample=0.8, random_state=seed
        )
    pipeline = Pipeline([("columns", columns), ("classifier", classifier)])
    model = FraudModel(version, pipeline)
    pipeline.fit(model.frame(rows), rows.labels)
    return model

"""The result of an evaluation: scores per system, per bucket, and drill-down to examples.

``to_dict()`` is the JSON contract of ``telltale evaluate --json``::

    {"task": str, "primary_metric": str, "n_examples": int, "settings": {...},
     "systems": {"<name>": {"n": int,
                            "overall": {"<metric>": {"value": float, "ci": [lo, hi]}},
                            "per_label": {"<label>": {...}},
                            "buckets": {"<feature>": [{"bucket": str, "n": int,
                                                       "<metric>": float, ..., "ci": [lo, hi]}]},
                            "confusion": {"level", "gold", "predicted", "matrix"} | null,
                            "calibration": {"ece", "mce", "bins": [...]} | null}},
     "features": {"<feature>": {"level", "kind", "description", "method", "buckets", "edges"}},
     "comparisons": [Comparison], "findings": [str], "slices": [Slice], "notes": [str]}

In a bucket entry ``ci`` is the interval of the primary metric (``f1`` for NER, ``accuracy`` for
classification, ...), from the one bootstrap of examples that also gives the overall intervals
and the comparisons (``settings["bucket_ci"]``), or a t-interval with ``ci="t"``. Buckets are listed for every system in the same order with the same
labels, empty buckets included (``n`` 0, values ``null``), because all systems share the edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from telltale.errors import NotFoundError
from telltale.schema.result import Result, jsonable

from .scoring import Selection
from .tasks.base import Level, TaskData

__all__ = ["EvaluationResult", "SystemEvaluation"]

IntArray = NDArray[np.intp]


@dataclass(kw_only=True)
class SystemEvaluation(Result):
    """Everything measured for one system."""

    n: int
    overall: dict[str, dict[str, Any]]
    per_label: dict[str, Any] | None
    buckets: dict[str, list[dict[str, Any]]]
    confusion: dict[str, Any] | None
    calibration: dict[str, Any] | None


@dataclass(kw_only=True)
class EvaluationResult(Result):
    """Systems evaluated on one data set; ``examples()`` drills down into any bucket or cell.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "gold.conll").write_text("Paris\\tB-LOC\\nis\\tO\\n\\nBob\\tB-PER\\n")
    >>> _ = (folder / "sys.conll").write_text("Paris\\tB-LOC\\nis\\tO\\n\\nBob\\tB-LOC\\n")
    >>> from telltale.analysis.evaluate import evaluate
    >>> result = evaluate(task="ner", data=folder / "gold.conll",
    ...                   systems={"tagger": folder / "sys.conll"}, n_bootstrap=0)
    >>> result.to_dict()["systems"]["tagger"]["overall"]["f1"]
    {'value': 0.5, 'ci': None}
    >>> [e["text"] for e in result.examples("tagger", "confusion", "PER -> LOC")]
    ['Bob']
    """

    task: str
    primary_metric: str
    n_examples: int
    settings: dict[str, Any]
    systems: dict[str, SystemEvaluation]
    features: dict[str, dict[str, Any]]
    comparisons: list[Any] = field(default_factory=list)
    findings: list[Any] = field(default_factory=list)
    slices: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: TaskData | None = field(default=None, repr=False, compare=False)
    members: dict[tuple[str, str], dict[str, IntArray]] = field(
        default_factory=dict, repr=False, compare=False
    )
    member_levels: dict[str, Level] = field(default_factory=dict, repr=False, compare=False)
    selections: dict[tuple[str, str], dict[str, Selection]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "primary_metric": self.primary_metric,
            "n_examples": self.n_examples,
            "settings": jsonable(self.settings),
            "systems": {name: system.to_dict() for name, system in self.systems.items()},
            "features": jsonable(self.features),
            "comparisons": jsonable(self.comparisons),
            "findings": jsonable(self.findings),
            "slices": jsonable(self.slices),
            "notes": list(self.notes),
        }

    def indices(self, system: str, feature: str, bucket: str) -> IntArray:
        """Indices of the units (examples, or span units for span features) in a bucket/cell."""
        if system not in self.systems:
            raise NotFoundError(f"no system {system!r}; the systems are {list(self.systems)}")
        groups = self.members.get((system, feature))
        if groups is None:
            known = sorted({f for _, f in self.members})
            raise NotFoundError(f"no feature {feature!r}; use one of {known}")
        if bucket not in groups:
            raise NotFoundError(
                f"feature {feature!r} has no bucket {bucket!r}; its buckets are {list(groups)}"
            )
        return groups[bucket]

    def examples(self, system: str, feature: str, bucket: str) -> list[dict[str, Any]]:
        """The examples (text, gold, prediction) of ``system`` in a bucket of ``feature``.

        ``feature`` may also be ``"confusion"`` (bucket ``"gold -> predicted"``, e.g.
        ``"LOC -> ORG"``, ``"PER -> missed"``, ``"spurious -> MISC"``) or ``"calibration"``
        (a bin label such as ``"[0.9, 1]"``).
        """
        rows = self.indices(system, feature, bucket)
        assert self.data is not None
        level = self.member_levels.get(feature, "example")
        return [self.data.describe(system, level, int(i)) for i in rows]

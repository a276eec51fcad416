"""The debugging workbench: evaluate systems against gold data, overall and by slices of it.

``evaluate(task=..., data=..., systems={name: output})`` reads a data set and the outputs of
one or more systems in the formats of :mod:`.readers` (CoNLL, TSV, one label per line,
ExplainaBoard JSON, Parquet/CSV/JSON lines), scores every system with intervals, buckets every
feature once on the union of all systems' values and scores each system per bucket, and builds
confusion tables, calibration and drill-down to examples. With several systems it compares
every pair with paired tests (:class:`Comparison`); it searches each system's underperforming
slices (:func:`find_slices`) and states its findings in plain language.

Tasks (:data:`TASKS`, one protocol, :func:`register_task` for more): ``ner`` (span F1, BIO/BIOES),
``text-classification``, ``text-pair-classification``, ``extractive-qa`` (SQuAD v1.1 EM/F1),
``generation`` (BLEU, chrF, ROUGE), ``tabular-classification`` and ``tabular-regression``.

>>> sorted(TASKS)
['extractive-qa', 'generation', 'ner', 'tabular-classification', 'tabular-regression', 'text-classification', 'text-pair-classification']
"""

from . import tasks as _tasks  # noqa: F401  (registers the built-in tasks)
from .buckets import DiscreteBuckets, FixedBuckets, QuantileBuckets
from .comparison import Comparison
from .result import EvaluationResult, SystemEvaluation
from .run import evaluate
from .significance import benjamini_hochberg
from .slices import Slice, SliceSearch, find_slices
from .tasks.base import TASKS, TaskOptions, register_task

__all__ = [
    "TASKS",
    "Comparison",
    "DiscreteBuckets",
    "EvaluationResult",
    "FixedBuckets",
    "QuantileBuckets",
    "Slice",
    "SliceSearch",
    "SystemEvaluation",
    "TaskOptions",
    "benjamini_hochberg",
    "evaluate",
    "find_slices",
    "register_task",
]

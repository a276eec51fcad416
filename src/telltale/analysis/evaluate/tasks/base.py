"""The one protocol every task implements, and the registry that maps task names to tasks.

A :class:`Task` reads a data set and the outputs of one or more systems into a
:class:`TaskData`; the workbench then asks the task data only for what every task can answer:
a scorer per system and level, the features to bucket by, a confusion table, calibration
inputs, and the text of a unit for drill-down. Built-in tasks register themselves here the way
a plugin would (:func:`register_task`).

>>> sorted(TASKS)[:3]
['extractive-qa', 'generation', 'ner']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from telltale.errors import ConfigError

from ..scoring import Intervals, Scorer

__all__ = [
    "TASKS",
    "FeatureValues",
    "Level",
    "LossUnits",
    "SystemFeature",
    "Task",
    "TaskData",
    "TaskOptions",
    "get_task",
    "register_task",
]

Level = Literal["example", "span"]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class SystemFeature:
    """A feature's values for one system's units.

    Example level: ``values`` has one value per example. Span level: ``gold_side`` and
    ``predicted_side`` have one value per span unit of the system (NaN/None where the unit has
    no gold, or no predicted, span).
    """

    values: NDArray[Any] | None = None
    gold_side: NDArray[Any] | None = None
    predicted_side: NDArray[Any] | None = None


@dataclass(frozen=True)
class FeatureValues:
    """A feature to bucket by: its values for every system, and the union its edges are fit on."""

    name: str
    level: Level
    kind: Literal["numeric", "categorical"]
    description: str
    union: NDArray[Any]
    by_system: Mapping[str, SystemFeature]


@dataclass(frozen=True)
class LossUnits:
    """The units a system is scored on one by one, each with a loss, for slice discovery.

    ``level`` is ``"example"`` or ``"span"`` (NER span units); ``examples`` gives the example
    (sentence) of each unit, so example features apply to spans too. ``binary`` losses are 0/1
    (an error); others are continuous (absolute error, 1 - F1).
    """

    level: Level
    loss: NDArray[np.float64]
    binary: bool
    examples: IntArray
    loss_name: str


@dataclass(frozen=True)
class TaskOptions:
    """Options a task may use; each task validates the ones it reads.

    - ``scheme``: ``"auto"``, ``"bio"`` or ``"bioes"`` (sequence labelling);
    - ``tagging``: ``"strict"`` raises on an invalid tag sequence, ``"lenient"`` repairs it as
      conlleval/seqeval do (an ``I-`` without ``B-`` begins a chunk) and counts the repairs;
    - ``unknown_labels``: ``"error"`` (a system label absent from the gold data raises) or
      ``"keep"`` (it is scored as an ordinary wrong label);
    - ``labels``: the full label set, when the gold data does not show every label;
    - ``target``, ``feature_columns``: tabular tasks — the target column and the columns to
      bucket by (default: every column that is neither target nor prediction);
    - ``user_features``: extra per-example features, name to values (one per example).
    """

    scheme: str = "auto"
    tagging: str = "strict"
    unknown_labels: str = "error"
    labels: Sequence[str] | None = None
    target: str | None = None
    feature_columns: Sequence[str] | None = None
    user_features: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, allowed in (
            ("scheme", ("auto", "bio", "bioes")),
            ("tagging", ("strict", "lenient")),
            ("unknown_labels", ("error", "keep")),
        ):
            value = getattr(self, name)
            if value not in allowed:
                raise ConfigError(
                    f"{name}={value!r} is not one of {list(allowed)}; pick one of them"
                )


class TaskData(Protocol):
    """A data set and its systems' outputs, loaded and aligned by a task."""

    @property
    def task(self) -> str: ...

    @property
    def primary_metric(self) -> str: ...

    @property
    def systems(self) -> list[str]: ...

    @property
    def n_examples(self) -> int: ...

    @property
    def levels(self) -> tuple[Level, ...]: ...

    @property
    def notes(self) -> list[str]: ...

    def scorer(self, system: str, level: Level) -> Scorer: ...

    def features(self) -> list[FeatureValues]: ...

    def per_label(self, system: str, intervals: Intervals) -> dict[str, Any] | None: ...

    def confusion(self, system: str) -> tuple[dict[str, Any], dict[str, IntArray]] | None:
        """The confusion table of ``system`` and, per cell name, the units in it."""
        ...

    def calibration_inputs(
        self, system: str
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]] | None:
        """Top-label confidence and correctness per example, when the system gave confidences."""
        ...

    def describe(self, system: str, level: Level, unit: int) -> dict[str, Any]:
        """One unit for drill-down: its index, text, gold and prediction."""
        ...

    def unit_losses(self, system: str) -> LossUnits:
        """The units of ``system`` with a loss each, for slice discovery."""
        ...


class Task(Protocol):
    """A kind of evaluation (NER, QA, ...): reads its inputs into :class:`TaskData`."""

    @property
    def name(self) -> str: ...

    @property
    def aliases(self) -> tuple[str, ...]: ...

    @property
    def description(self) -> str: ...

    def load(self, data: Any, systems: Mapping[str, Any], options: TaskOptions) -> TaskData: ...


TASKS: dict[str, Task] = {}
_ALIASES: dict[str, str] = {}


def register_task(task: Task) -> Task:
    """Add ``task`` (and its aliases) to :data:`TASKS`; returns it, so it can decorate."""
    for name in (task.name, *task.aliases):
        owner = _ALIASES.get(name)
        if owner is not None and owner != task.name:
            raise ConfigError(f"task name {name!r} is already taken by task {owner!r}")
        _ALIASES[name] = task.name
    TASKS[task.name] = task
    return task


def get_task(name: str) -> Task:
    """The task registered as ``name`` or an alias; :class:`ConfigError` listing the names."""
    key = _ALIASES.get(name.strip().lower().replace("_", "-"))
    if key is None:
        raise ConfigError(
            f"task={name!r} is not a known task; use one of {sorted(TASKS)} "
            f"(aliases: {sorted(set(_ALIASES) - set(TASKS))})"
        )
    return TASKS[key]


def shared_feature(
    name: str,
    kind: Literal["numeric", "categorical"],
    description: str,
    values: NDArray[Any],
    systems: Sequence[str],
) -> FeatureValues:
    """An example-level feature of the data (the same values for every system)."""
    return FeatureValues(
        name,
        "example",
        kind,
        description,
        values,
        {s: SystemFeature(values=values) for s in systems},
    )


def per_system_feature(
    name: str,
    kind: Literal["numeric", "categorical"],
    description: str,
    values: Mapping[str, NDArray[Any]],
) -> FeatureValues:
    """An example-level feature that differs per system (confidence, output length); its
    buckets are fit on the values of all systems together, so they line up."""
    union = np.concatenate([np.asarray(v) for v in values.values()])
    return FeatureValues(
        name,
        "example",
        kind,
        description,
        union,
        {s: SystemFeature(values=v) for s, v in values.items()},
    )


def user_features(
    options: TaskOptions, n_examples: int, systems: Sequence[str]
) -> list[FeatureValues]:
    """The caller's ``user_features`` as example-level features (numeric when all are numbers)."""
    out = []
    for name, column in options.user_features.items():
        values = np.asarray(list(column), dtype=object)
        if len(values) != n_examples:
            raise ConfigError(
                f"user feature {name!r} has {len(values):,} values but the data has "
                f"{n_examples:,} examples; pass one value per example, in data order"
            )
        numeric = all(
            v is None
            or (isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool))
            for v in values
        )
        if numeric:
            floats = np.array([np.nan if v is None else float(v) for v in values])
            out.append(shared_feature(name, "numeric", "user-supplied", floats, systems))
        else:
            labels = np.array([None if v is None else str(v) for v in values], dtype=object)
            out.append(shared_feature(name, "categorical", "user-supplied", labels, systems))
    return out

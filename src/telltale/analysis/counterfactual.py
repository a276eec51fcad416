"""Counterfactual evaluation: perturb the inputs of a model and count how its predictions move.

:func:`counterfactual_evaluation` calls ``predict`` once on the original inputs and once per
perturbation on the rows that perturbation changed, and reports per perturbation the flip rate
(share of changed rows whose prediction changed), the change of the metric on those rows when
gold labels are given (accuracy and macro F1 for classification, MAE for regression, both through
:mod:`telltale.analysis.performance`), and examples of flips.

Inputs are a list of texts, a 2-D array, or a mapping of column name → 1-D values; ``predict``
receives the same kind it was given (a list of texts, a 2-D array, a ``dict`` of columns) holding
only the rows to predict, and returns one prediction per row.

Perturbations (one small protocol, :class:`Perturbation`; write your own the same way):

- text: :class:`Case` (lower/upper/title), :class:`Typos` (seeded swaps, deletions and insertions
  of letters), :class:`Punctuation` (strip or add), :class:`EntitySwap` (names and places from a
  small built-in list or yours, or NER spans you give);
- tabular: :class:`Shift` (additive, in standard deviations of the column or absolute),
  :class:`Scale` (multiplicative), :class:`CategorySwap` (another observed category).

**Applicability.** A row counts for a perturbation only if the perturbation changed it; a row it
leaves as it was (no entity to swap, a text already in lower case, a zero to scale, a column with
one category) is *not applicable* and is counted in ``n_not_applicable``, never as unflipped.

**Seeds.** Each perturbation draws from its own generator, seeded by ``(seed, crc32(name))``, so
a run is reproducible and adding, removing or reordering perturbations leaves the others' draws
as they were.

>>> texts = ["Good film .", "Bad film !", "John liked it", "boring"]
>>> predict = lambda batch: ["pos" if "good" in t.lower() or "liked" in t else "neg"
...                          for t in batch]
>>> result = counterfactual_evaluation(
...     predict, texts, [Case("upper"), EntitySwap(), Typos(rate=0.5)],
...     labels=["pos", "neg", "pos", "neg"], seed=0)
>>> case = result.outcome("case:upper")
>>> case.n, case.n_not_applicable, case.flip_rate
(4, 0, 0.25)
>>> swap = result.outcome("entity-swap")
>>> swap.n, swap.n_not_applicable, swap.n_flipped
(1, 3, 0)
>>> sorted(result.to_dict())
['kind', 'metrics', 'n', 'notes', 'perturbations', 'seed', 'task']
"""

from __future__ import annotations

import math
import numbers
import re
import string
import unicodedata
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from telltale.analysis.performance import classification_performance, regression_performance
from telltale.errors import ConfigError, SchemaError
from telltale.schema.result import Result

__all__ = [
    "DEFAULT_ENTITIES",
    "Case",
    "CategorySwap",
    "CounterfactualResult",
    "EntitySwap",
    "Perturbation",
    "PerturbationOutcome",
    "Punctuation",
    "Scale",
    "Shift",
    "Typos",
    "counterfactual_evaluation",
]

Task = Literal["classification", "regression"]
Columns = Mapping[str, NDArray[Any]]
BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]

DEFAULT_ENTITIES: dict[str, tuple[str, ...]] = {
    "PER": (
        "John", "Mary", "James", "Maria", "Ahmed", "Wei", "Priya", "Carlos", "Olga", "Kenji",
        "Fatima", "Lars", "Aisha", "Diego", "Yuki", "Emma", "Michael", "Sarah", "David", "Anna",
    ),
    "LOC": (
        "London", "Paris", "Tokyo", "Lagos", "Mumbai", "Chicago", "Berlin", "Cairo", "Lima",
        "Sydney", "Toronto", "Madrid", "Seoul", "Nairobi", "Moscow", "Texas", "California",
        "France", "China", "Brazil", "New York", "Hollywood", "America", "Europe",
    ),
}  # fmt: skip
"""The built-in names of :class:`EntitySwap`: a few common given names and places."""


# ---------------------------------------------------------------------------------------------
# the perturbation protocol


@runtime_checkable
class Perturbation(Protocol):
    """One way to change inputs.

    ``kind`` is ``"text"`` (``perturb`` takes and returns a list of strings) or ``"tabular"``
    (``perturb`` takes a mapping of column name → 1-D array and returns the columns it changed,
    as new arrays of the same length). Draw randomness only from ``rng``. Rows whose values come
    back equal are counted as not applicable.
    """

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    def perturb(self, inputs: Any, rng: np.random.Generator) -> Any: ...


def _check_choice(value: Any, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        raise ConfigError(f"{what} must be one of {list(allowed)}, got {value!r}")


@dataclass(frozen=True)
class Case:
    """Change the letter case: ``"lower"``, ``"upper"`` or ``"title"`` (first letter of each
    whitespace-separated word upper, the rest lower).

    >>> Case("title").perturb(["it 's a GREAT film"], np.random.default_rng(0))
    ["It 's A Great Film"]
    """

    mode: Literal["lower", "upper", "title"] = "lower"
    label: str | None = None
    kind: ClassVar[str] = "text"

    def __post_init__(self) -> None:
        _check_choice(self.mode, ("lower", "upper", "title"), "Case mode")

    @property
    def name(self) -> str:
        return self.label or f"case:{self.mode}"

    def perturb(self, inputs: list[str], rng: np.random.Generator) -> list[str]:
        if self.mode == "lower":
            return [text.lower() for text in inputs]
        if self.mode == "upper":
            return [text.upper() for text in inputs]
        return [re.sub(r"\S+", lambda m: m[0][:1].upper() + m[0][1:].lower(), t) for t in inputs]


_TYPO_OPERATIONS = ("swap", "delete", "insert")


@dataclass(frozen=True)
class Typos:
    """Seeded typing errors: each text with a letter gets ``max(1, Binomial(letters, rate))``
    edits at distinct letters, each a swap with the next letter, a deletion, or an insertion of a
    random lower-case letter after it (uniformly among ``operations``). A swap with nothing to
    swap with (the next character is no letter, or the same letter) becomes a deletion.

    >>> Typos(rate=0.1).perturb(["a terrible movie"], np.random.default_rng(0))
    ['a terilbe movie']
    """

    rate: float = 0.05
    operations: tuple[str, ...] = _TYPO_OPERATIONS
    label: str | None = None
    kind: ClassVar[str] = "text"

    def __post_init__(self) -> None:
        if not isinstance(self.rate, numbers.Real) or not 0 < self.rate <= 1:
            raise ConfigError(f"Typos rate must be in (0, 1], got {self.rate!r}; e.g. rate=0.05")
        if not self.operations:
            raise ConfigError(f"Typos operations must name at least one of {_TYPO_OPERATIONS}")
        for operation in self.operations:
            _check_choice(operation, _TYPO_OPERATIONS, "a Typos operation")

    @property
    def name(self) -> str:
        return self.label or f"typos:{self.rate:g}"

    def perturb(self, inputs: list[str], rng: np.random.Generator) -> list[str]:
        return [self._one(text, rng) for text in inputs]

    def _one(self, text: str, rng: np.random.Generator) -> str:
        letters = [i for i, char in enumerate(text) if char.isalpha()]
        if not letters:
            return text
        count = max(1, int(rng.binomial(len(letters), self.rate)))
        positions = np.sort(rng.choice(letters, size=count, replace=False))[::-1]
        operations = rng.integers(len(self.operations), size=count)
        inserted = rng.integers(26, size=count)
        chars = list(text)
        # right to left, so an edit never moves the positions still to be edited
        for position, operation, letter in zip(
            positions.tolist(), operations.tolist(), inserted.tolist(), strict=True
        ):
            kind = self.operations[operation]
            after = position + 1
            if (
                kind == "swap"
                and after < len(chars)
                and chars[after].isalpha()
                and chars[after] != chars[position]
            ):
                chars[position], chars[after] = chars[after], chars[position]
            elif kind == "insert":
                chars.insert(after, string.ascii_lowercase[letter])
            else:
                del chars[position]
        return "".join(chars)


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


@dataclass(frozen=True)
class Punctuation:
    """``"strip"`` removes every punctuation character (Unicode category P) and the spaces
    that leaves doubled; ``"add"`` puts one mark from ``marks`` after a random word.

    >>> rng = np.random.default_rng(0)
    >>> Punctuation("strip").perturb(["it 's great , really ."], rng)
    ['it s great really']
    """

    mode: Literal["strip", "add"] = "strip"
    marks: str = ",.!?"
    label: str | None = None
    kind: ClassVar[str] = "text"

    def __post_init__(self) -> None:
        _check_choice(self.mode, ("strip", "add"), "Punctuation mode")
        if self.mode == "add" and not self.marks:
            raise ConfigError("Punctuation('add') needs at least one mark, e.g. marks='!'")

    @property
    def name(self) -> str:
        return self.label or f"punctuation:{self.mode}"

    def perturb(self, inputs: list[str], rng: np.random.Generator) -> list[str]:
        return [self._one(text, rng) for text in inputs]

    def _one(self, text: str, rng: np.random.Generator) -> str:
        if self.mode == "strip":
            if not any(_is_punctuation(char) for char in text):
                return text
            stripped = "".join(char for char in text if not _is_punctuation(char))
            return re.sub(r" {2,}", " ", stripped).strip()
        ends = [m.end() for m in re.finditer(r"\w+", text)]
        if not ends:
            return text
        at = ends[int(rng.integers(len(ends)))]
        return text[:at] + self.marks[int(rng.integers(len(self.marks)))] + text[at:]


Span = tuple[int, int, str]


@dataclass(frozen=True)
class EntitySwap:
    """Replace names of people and places by other names of the same type.

    Without ``spans`` it finds, as whole words, the names listed in ``entities`` (type → names;
    :data:`DEFAULT_ENTITIES` when not given) and swaps each for another name of its type, the same
    name always for the same substitute within a text. With ``case_sensitive=False`` a match in
    lower case gets a lower-case substitute (for lower-cased corpora such as SST-2).

    With ``spans`` (one list per text of ``(start, end, type)`` character offsets, e.g. from an
    NER tagger) it swaps exactly those spans whose type has a list in ``entities``. A text with
    nothing to swap is not applicable.

    >>> swap = EntitySwap({"PER": ["Alice", "Bob"]})
    >>> swap.perturb(["Alice met Alice ."], np.random.default_rng(0))
    ['Bob met Bob .']
    >>> EntitySwap({"LOC": ["Rome", "Oslo"]}, spans=[[(3, 7, "LOC")]]).perturb(
    ...     ["In Rome"], np.random.default_rng(0))
    ['In Oslo']
    """

    entities: Mapping[str, Sequence[str]] | None = None
    spans: Sequence[Sequence[Span]] | None = None
    case_sensitive: bool = True
    label: str | None = None
    kind: ClassVar[str] = "text"

    def __post_init__(self) -> None:
        for entity_type, names in self._entities().items():
            if isinstance(names, str) or len(set(names)) < 2:
                raise ConfigError(
                    f"EntitySwap needs at least two distinct names per type to swap between; "
                    f"type {entity_type!r} has {names!r}"
                )

    @property
    def name(self) -> str:
        return self.label or "entity-swap"

    def _entities(self) -> Mapping[str, Sequence[str]]:
        return DEFAULT_ENTITIES if self.entities is None else self.entities

    def perturb(self, inputs: list[str], rng: np.random.Generator) -> list[str]:
        entities = self._entities()
        if self.spans is not None:
            if len(self.spans) != len(inputs):
                raise ConfigError(
                    f"EntitySwap got spans for {len(self.spans)} texts but there are "
                    f"{len(inputs)}; give one list of (start, end, type) spans per text"
                )
            return [
                self._swap_spans(text, spans, row, entities, rng)
                for row, (text, spans) in enumerate(zip(inputs, self.spans, strict=True))
            ]
        type_of: dict[str, str] = {}
        for entity_type, names in entities.items():
            for entity in names:
                key = entity if self.case_sensitive else entity.lower()
                type_of.setdefault(key, entity_type)
        alternatives = "|".join(re.escape(n) for n in sorted(type_of, key=len, reverse=True))
        flags = 0 if self.case_sensitive else re.IGNORECASE
        pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", flags)
        return [self._swap_names(text, pattern, type_of, entities, rng) for text in inputs]

    def _swap_names(
        self,
        text: str,
        pattern: re.Pattern[str],
        type_of: Mapping[str, str],
        entities: Mapping[str, Sequence[str]],
        rng: np.random.Generator,
    ) -> str:
        chosen: dict[str, str] = {}

        def substitute(match: re.Match[str]) -> str:
            found = match[0]
            if found not in chosen:
                key = found if self.case_sensitive else found.lower()
                options = [
                    n
                    for n in entities[type_of[key]]
                    if (n if self.case_sensitive else n.lower()) != key
                ]
                pick = options[int(rng.integers(len(options)))]
                chosen[found] = pick.lower() if found.islower() else pick
            return chosen[found]

        return pattern.sub(substitute, text)

    def _swap_spans(
        self,
        text: str,
        spans: Sequence[Span],
        row: int,
        entities: Mapping[str, Sequence[str]],
        rng: np.random.Generator,
    ) -> str:
        for start, end, entity_type in sorted(spans, key=lambda span: span[0], reverse=True):
            if not 0 <= start < end <= len(text):
                raise ConfigError(
                    f"EntitySwap span ({start}, {end}, {entity_type!r}) of text {row} lies outside "
                    f"the text (length {len(text)}); spans are character offsets [start, end)"
                )
            if entity_type not in entities:
                continue
            options = [n for n in entities[entity_type] if n != text[start:end]]
            text = text[:start] + options[int(rng.integers(len(options)))] + text[end:]
        return text


# ---------------------------------------------------------------------------------------------
# tabular perturbations


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _is_numeric(values: NDArray[Any]) -> bool:
    if values.dtype.kind in "iuf":
        return True
    if values.dtype.kind != "O":
        return False
    return all(
        _is_missing(v) or (isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)))
        for v in values
    ) and not all(_is_missing(v) for v in values)


def _target_columns(
    columns: Columns, requested: Sequence[str] | None, numeric: bool, who: str
) -> list[str]:
    if requested is None:
        return [name for name, values in columns.items() if _is_numeric(values) == numeric]
    for name in requested:
        if name not in columns:
            raise ConfigError(f"{who}: no column {name!r}; the columns are {list(columns)}")
        if numeric and not _is_numeric(columns[name]):
            raise ConfigError(
                f"{who}: column {name!r} is not numeric (dtype {columns[name].dtype}); "
                "shift and scale numeric columns, and use CategorySwap for categorical ones"
            )
    return list(requested)


def _per_column(value: float | Mapping[str, float], column: str) -> float:
    return float(value[column]) if isinstance(value, Mapping) else float(value)


def _check_number(value: float | Mapping[str, float], who: str) -> None:
    values = value.values() if isinstance(value, Mapping) else [value]
    for v in values:
        if not isinstance(v, numbers.Real) or isinstance(v, bool) or not math.isfinite(v):
            raise ConfigError(f"{who} must be a finite number (or column → number), got {v!r}")


def _columns_of(value: float | Mapping[str, float], columns: Sequence[str] | None) -> Any:
    if isinstance(value, Mapping):
        if columns is not None:
            raise ConfigError("give the columns either as the keys of a mapping or as columns=")
        return list(value)
    return None if columns is None else list(columns)


@dataclass(frozen=True)
class Shift:
    """Add ``amount`` to numeric columns: in standard deviations of each column (``unit="std"``,
    ``numpy.nanstd`` of the evaluated rows) or in the column's own units (``"absolute"``).

    ``amount`` may map column → amount; otherwise it applies to ``columns`` (default: every
    numeric column). Missing values stay missing.

    >>> Shift(1.0, unit="absolute").perturb({"age": np.array([30, 40])}, None)
    {'age': array([31., 41.])}
    """

    amount: float | Mapping[str, float]
    columns: Sequence[str] | None = None
    unit: Literal["std", "absolute"] = "std"
    label: str | None = None
    kind: ClassVar[str] = "tabular"

    def __post_init__(self) -> None:
        _check_number(self.amount, "Shift amount")
        _check_choice(self.unit, ("std", "absolute"), "Shift unit")
        _columns_of(self.amount, self.columns)

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        unit = " std" if self.unit == "std" else ""
        if isinstance(self.amount, Mapping):
            return "shift:" + ",".join(f"{c}{a:+g}{unit}" for c, a in self.amount.items())
        scope = f"[{','.join(self.columns)}]" if self.columns is not None else ""
        return f"shift:{self.amount:+g}{unit}{scope}"

    def perturb(self, inputs: Columns, rng: np.random.Generator | None) -> dict[str, FloatArray]:
        requested = _columns_of(self.amount, self.columns)
        changed = {}
        for column in _target_columns(inputs, requested, True, f"Shift {self.name!r}"):
            values = np.asarray(inputs[column], dtype=np.float64)
            step = _per_column(self.amount, column)
            if self.unit == "std":
                finite = values[np.isfinite(values)]
                step *= float(finite.std()) if len(finite) else 0.0
            changed[column] = values + step
        return changed


@dataclass(frozen=True)
class Scale:
    """Multiply numeric columns by ``factor`` (or column → factor); default every numeric
    column. Zeros stay zero, so a row whose selected values are all 0 is not applicable.

    >>> Scale(1.5, columns=["income"]).perturb({"income": np.array([0.0, 10.0])}, None)
    {'income': array([ 0., 15.])}
    """

    factor: float | Mapping[str, float]
    columns: Sequence[str] | None = None
    label: str | None = None
    kind: ClassVar[str] = "tabular"

    def __post_init__(self) -> None:
        _check_number(self.factor, "Scale factor")
        _columns_of(self.factor, self.columns)

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        if isinstance(self.factor, Mapping):
            return "scale:" + ",".join(f"{c}x{f:g}" for c, f in self.factor.items())
        scope = f"[{','.join(self.columns)}]" if self.columns is not None else ""
        return f"scale:x{self.factor:g}{scope}"

    def perturb(self, inputs: Columns, rng: np.random.Generator | None) -> dict[str, FloatArray]:
        requested = _columns_of(self.factor, self.columns)
        return {
            column: np.asarray(inputs[column], dtype=np.float64) * _per_column(self.factor, column)
            for column in _target_columns(inputs, requested, True, f"Scale {self.name!r}")
        }


@dataclass(frozen=True)
class CategorySwap:
    """Replace the value of categorical columns by another category observed in that column,
    uniformly among the others. Default columns: every non-numeric column; name numeric columns
    in ``columns`` to treat codes as categories. Missing values stay missing.

    >>> CategorySwap().perturb({"sex": np.array(["F", "M", "F"])}, np.random.default_rng(0))
    {'sex': array(['M', 'F', 'M'], dtype='<U1')}
    """

    columns: Sequence[str] | None = None
    label: str | None = None
    kind: ClassVar[str] = "tabular"

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        scope = f"[{','.join(self.columns)}]" if self.columns is not None else ""
        return f"category-swap{scope}"

    def perturb(self, inputs: Columns, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        changed = {}
        for column in _target_columns(inputs, self.columns, False, f"CategorySwap {self.name!r}"):
            values = np.asarray(inputs[column])
            present = np.array([not _is_missing(v) for v in values.tolist()], dtype=bool)
            observed = values[present].tolist()
            categories = list(dict.fromkeys(observed))
            if len(categories) < 2:
                continue
            index = {category: i for i, category in enumerate(categories)}
            codes = np.array([index[v] for v in observed], dtype=np.intp)
            draw = rng.integers(len(categories) - 1, size=len(codes))
            swapped = draw + (draw >= codes)  # uniform over the other categories
            out = values.copy()
            pool = np.empty(len(categories), dtype=object)
            pool[:] = categories
            out[present] = pool[swapped]
            changed[column] = out
        return changed


# ---------------------------------------------------------------------------------------------
# inputs in, predictions out (shared with telltale.analysis.attribution)


class _Table:
    """Tabular inputs as named columns, and how to hand rows back to ``predict`` in the form
    the caller gave them (a 2-D array, or a ``dict`` of columns)."""

    def __init__(self, columns: dict[str, NDArray[Any]], form: Literal["array", "mapping"]):
        self.columns = columns
        self.form = form
        self.names = list(columns)
        self.n_rows = len(next(iter(columns.values())))

    @classmethod
    def from_input(cls, inputs: Any, feature_names: Sequence[str] | None, what: str) -> _Table:
        if isinstance(inputs, Mapping):
            if feature_names is not None:
                raise ConfigError(
                    f"feature_names is for 2-D array {what}; a mapping already names its columns"
                )
            columns = {str(name): np.asarray(values) for name, values in inputs.items()}
            if not columns:
                raise SchemaError(f"{what} has no columns; give at least one column")
            lengths = {name: values.shape for name, values in columns.items()}
            bad = {name: shape for name, shape in lengths.items() if len(shape) != 1}
            if bad:
                raise SchemaError(f"every column of {what} must be 1-D; got shapes {bad}")
            if len({shape[0] for shape in lengths.values()}) > 1:
                sizes = {name: shape[0] for name, shape in lengths.items()}
                raise SchemaError(f"the columns of {what} differ in length: {sizes}")
            return cls(columns, "mapping")
        array = np.asarray(inputs)
        if array.ndim != 2 or array.shape[1] == 0:
            raise SchemaError(
                f"{what} must be a 2-D array (rows × features) or a mapping of column name → "
                f"1-D values; got an array of shape {array.shape}"
            )
        names = (
            [f"x{j}" for j in range(array.shape[1])]
            if feature_names is None
            else [str(n) for n in feature_names]
        )
        if len(names) != array.shape[1] or len(set(names)) != len(names):
            raise ConfigError(
                f"feature_names must name each of the {array.shape[1]} columns of {what} once; "
                f"got {list(feature_names or [])}"
            )
        return cls({name: array[:, j] for j, name in enumerate(names)}, "array")

    def take(self, rows: NDArray[np.intp]) -> _Table:
        return _Table({name: values[rows] for name, values in self.columns.items()}, self.form)

    def replace(self, changed: Mapping[str, NDArray[Any]]) -> _Table:
        return _Table({**self.columns, **changed}, self.form)

    def to_input(self) -> Any:
        """The rows as ``predict`` takes them."""
        if self.form == "mapping":
            return dict(self.columns)
        values = list(self.columns.values())
        try:
            dtype = np.result_type(*[v.dtype for v in values])
        except TypeError:
            dtype = np.dtype(object)
        out = np.empty((self.n_rows, len(values)), dtype=dtype)
        for j, column in enumerate(values):
            out[:, j] = column
        return out


def _call_predict(
    predict: Callable[[Any], Any],
    batch: Any,
    n_rows: int,
    stage: str,
    *,
    numeric: bool,
    output: int | None = None,
) -> NDArray[Any]:
    """``predict(batch)`` checked: one finite prediction per row, in a 1-D array.

    ``stage`` names what was predicted in messages (``"the original inputs"``, ``"perturbation
    'typos:0.05'"``). With ``numeric`` the predictions must be numbers; ``output`` picks one
    column of 2-D outputs (e.g. the class of ``predict_proba``).
    """
    try:
        raw = predict(batch)
    except Exception as exc:
        raise ConfigError(
            f"predict raised {type(exc).__name__} on {stage}: {exc}; make predict accept "
            f"{n_rows} rows in the form it was given (or drop that perturbation)",
            details={"stage": stage},
        ) from exc
    predictions = np.asarray(raw)
    if predictions.ndim == 2 and output is not None:
        if not 0 <= output < predictions.shape[1]:
            raise ConfigError(
                f"output={output} but predict returned {predictions.shape[1]} columns on {stage}"
            )
        predictions = predictions[:, output]
    elif predictions.ndim == 2 and predictions.shape[1] == 1:
        predictions = predictions[:, 0]
    if predictions.ndim != 1:
        hint = (
            "pass output=<column> to pick one column (e.g. the class of predict_proba)"
            if numeric
            else "return one label per row (model.predict, not predict_proba)"
        )
        raise ConfigError(
            f"predict returned an array of shape {predictions.shape} on {stage}; {hint}",
            details={"stage": stage},
        )
    if len(predictions) != n_rows:
        raise ConfigError(
            f"predict returned {len(predictions)} predictions for {n_rows} rows on {stage}; it "
            "must return one prediction per input row, in order",
            details={"stage": stage},
        )
    if numeric:
        try:
            predictions = predictions.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"predict returned non-numeric values on {stage} (dtype {predictions.dtype}); "
                "regression and explanations need numbers (pass predict_proba and output= "
                "for a classifier)",
                details={"stage": stage},
            ) from exc
        bad = np.flatnonzero(~np.isfinite(predictions))
    elif predictions.dtype.kind == "f":
        bad = np.flatnonzero(np.isnan(predictions))
    elif predictions.dtype.kind == "O":
        bad = np.flatnonzero([_is_missing(v) for v in predictions.tolist()])
    else:
        bad = np.empty(0, dtype=np.intp)
    if len(bad):
        raise ConfigError(
            f"predict returned NaN or missing predictions for {len(bad)} of {n_rows} rows on "
            f"{stage} (first: row {int(bad[0])}); make predict return a value for every row, "
            "e.g. impute the features the perturbation changed",
            details={"stage": stage, "rows": bad[:10].tolist()},
        )
    return predictions


# ---------------------------------------------------------------------------------------------
# the evaluation


@dataclass(kw_only=True)
class PerturbationOutcome(Result):
    """What one perturbation did.

    ``n`` rows were changed by it (``n_not_applicable`` were not, and are left out of every
    figure); ``n_flipped`` of them got another prediction (for regression: one that moved by more
    than the tolerance). ``metrics`` (with gold labels) compares the original and the perturbed
    predictions on those ``n`` rows: ``{"accuracy": {"before", "after", "change"}, ...}``.
    """

    name: str
    n: int
    n_not_applicable: int
    n_flipped: int
    flip_rate: float | None
    mean_abs_change: float | None
    metrics: dict[str, dict[str, float | None]] | None
    examples: list[dict[str, Any]]


@dataclass(kw_only=True)
class CounterfactualResult(Result):
    """Outcomes of every perturbation; ``metrics`` are those of the original predictions on all
    rows (``None`` without labels). ``to_json()`` is strict JSON."""

    kind: Literal["text", "tabular"]
    task: Task
    n: int
    seed: int
    metrics: dict[str, float | None] | None
    perturbations: list[PerturbationOutcome]
    notes: list[str]

    def outcome(self, name: str) -> PerturbationOutcome:
        """The outcome of the perturbation called ``name``."""
        for outcome in self.perturbations:
            if outcome.name == name:
                return outcome
        known = [o.name for o in self.perturbations]
        raise ConfigError(f"no perturbation {name!r}; the perturbations are {known}")


def _metrics(task: Task, gold: NDArray[Any], predicted: NDArray[Any]) -> dict[str, float | None]:
    if task == "classification":
        perf = classification_performance(gold, predicted, n_bootstrap=0)
        return {name: perf.metrics[name]["value"] for name in ("accuracy", "f1_macro")}
    return {"mae": regression_performance(gold, predicted, n_bootstrap=0).metrics["mae"]["value"]}


def _read_text(inputs: Any) -> list[str] | None:
    if isinstance(inputs, (str, bytes, Mapping)):
        return None
    if isinstance(inputs, np.ndarray):
        if inputs.ndim != 1:
            return None
        items = inputs.tolist()
    elif isinstance(inputs, Sequence):
        items = list(inputs)
    else:
        return None
    if not items or all(isinstance(item, str) for item in items):
        return items  # an empty list is reported as "no rows" by the caller
    if items and any(isinstance(item, str) for item in items):
        first = next(i for i, item in enumerate(items) if not isinstance(item, str))
        raise SchemaError(
            f"text inputs must all be strings; item {first} is {items[first]!r}; convert it, "
            "e.g. with str() or by dropping the row"
        )
    return None


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def _changed_rows(old: NDArray[Any], new: NDArray[Any]) -> BoolArray:
    if old.dtype.kind in "iufb" and new.dtype.kind in "iufb":
        a, b = old.astype(np.float64), new.astype(np.float64)
        return ~((a == b) | (np.isnan(a) & np.isnan(b)))
    return np.array(
        [
            not (x == y or (_is_missing(x) and _is_missing(y)))
            for x, y in zip(old.tolist(), new.tolist(), strict=True)
        ],
        dtype=bool,
    )


def _check_arguments(task: Any, seed: Any, n_examples: Any, tolerance: Any) -> None:
    _check_choice(task, ("classification", "regression"), "task")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(n_examples, bool) or not isinstance(n_examples, numbers.Integral):
        raise ConfigError(f"n_examples must be a non-negative integer, got {n_examples!r}")
    if n_examples < 0:
        raise ConfigError(f"n_examples must be a non-negative integer, got {n_examples!r}")
    if not isinstance(tolerance, numbers.Real) or not float(tolerance) >= 0:
        raise ConfigError(f"tolerance must be a number >= 0, got {tolerance!r}")


def counterfactual_evaluation(
    predict: Callable[[Any], Any],
    inputs: Any,
    perturbations: Sequence[Perturbation],
    *,
    labels: Any = None,
    task: Task = "classification",
    feature_names: Sequence[str] | None = None,
    seed: int = 0,
    n_examples: int = 5,
    tolerance: float = 0.0,
) -> CounterfactualResult:
    """Perturb ``inputs`` and report, per perturbation, how often ``predict`` changes its mind.

    ``inputs``: a list of texts, a 2-D array (columns named by ``feature_names``, default
    ``x0, x1, ...``) or a mapping of column name → 1-D values. ``labels``: optional gold labels
    (``task="classification"``: accuracy and macro F1; ``"regression"``: MAE). For regression a
    prediction flips when it moves by more than ``tolerance``; ``mean_abs_change`` says by how
    much on average. ``n_examples`` flips per perturbation are kept (a seeded sample, in row
    order) with the original and perturbed input (for tables only the changed columns), the
    predictions before and after, and the gold label.

    Tabular, with a scikit-learn model on a 2-D array::

        from sklearn.datasets import load_breast_cancer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from telltale.analysis.counterfactual import Scale, Shift, counterfactual_evaluation

        data = load_breast_cancer()
        model = make_pipeline(StandardScaler(), LogisticRegression()).fit(data.data, data.target)
        result = counterfactual_evaluation(
            model.predict, data.data, [Shift(0.5), Shift(-0.5), Scale(1.1)],
            labels=data.target, feature_names=list(data.feature_names))
        print(result.to_json(indent=2))
    """
    _check_arguments(task, seed, n_examples, tolerance)
    texts = _read_text(inputs)
    kind: Literal["text", "tabular"] = "text" if texts is not None else "tabular"
    table = None if texts is not None else _Table.from_input(inputs, feature_names, "inputs")
    n = len(texts) if texts is not None else table.n_rows  # type: ignore[union-attr]
    if n == 0:
        raise SchemaError("inputs hold no rows; give at least one text or row")
    gold = None if labels is None else np.asarray(labels)
    if gold is not None and (gold.ndim != 1 or len(gold) != n):
        raise SchemaError(f"labels must be 1-D with one label per row ({n}); got {gold.shape}")
    names = [getattr(p, "name", None) for p in perturbations]
    if not names:
        raise ConfigError("give at least one perturbation, e.g. [Case('lower'), Typos(0.05)]")
    duplicated = sorted({str(n) for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigError(f"perturbation names must be unique; repeated: {duplicated} (use label=)")

    for perturbation in perturbations:
        _check_perturbation(perturbation, kind)

    numeric = task == "regression"
    original = texts if texts is not None else table.to_input()  # type: ignore[union-attr]
    before = _call_predict(predict, original, n, "the original inputs", numeric=numeric)
    metrics = None if gold is None else _metrics(task, gold, before)
    notes: list[str] = []
    outcomes = []
    for perturbation in perturbations:
        name = perturbation.name
        rng = _rng(seed, name)
        if texts is not None:
            perturbed_texts = list(perturbation.perturb(list(texts), rng))
            if len(perturbed_texts) != n:
                raise ConfigError(
                    f"perturbation {name!r} returned {len(perturbed_texts)} texts for {n}"
                )
            changed = np.array(
                [a != b for a, b in zip(texts, perturbed_texts, strict=True)], dtype=bool
            )
            rows = np.flatnonzero(changed)
            batch: Any = [perturbed_texts[i] for i in rows]
            describe = _text_describer(texts, perturbed_texts)
        else:
            assert table is not None
            replaced = {
                column: np.asarray(values)
                for column, values in perturbation.perturb(table.columns, rng).items()
            }
            changed = np.zeros(n, dtype=bool)
            for column, values in replaced.items():
                if column not in table.columns:
                    raise ConfigError(
                        f"perturbation {name!r} returned an unknown column {column!r}; "
                        f"the columns are {table.names}"
                    )
                if values.shape != (n,):
                    raise ConfigError(
                        f"perturbation {name!r} returned column {column!r} with shape "
                        f"{values.shape}; expected ({n},)"
                    )
                changed |= _changed_rows(table.columns[column], values)
            rows = np.flatnonzero(changed)
            batch = table.replace(replaced).take(rows).to_input()
            describe = _table_describer(table, replaced)
        stage = f"perturbation {name!r}"
        after = (
            _call_predict(predict, batch, len(rows), stage, numeric=numeric)
            if len(rows)
            else before[:0]
        )
        outcomes.append(
            _outcome(name, task, before, after, rows, n, gold, tolerance, n_examples, rng, describe)
        )
        if not len(rows):
            notes.append(f"{name!r} changed no row: every row is not applicable")
    return CounterfactualResult(
        kind=kind,
        task=task,
        n=n,
        seed=int(seed),
        metrics=metrics,
        perturbations=outcomes,
        notes=notes,
    )


def _check_perturbation(perturbation: Any, kind: str) -> None:
    if not isinstance(perturbation, Perturbation) or perturbation.kind not in ("text", "tabular"):
        raise ConfigError(
            f"{perturbation!r} is not a perturbation: it needs name, kind ('text' or "
            "'tabular') and perturb(inputs, rng)"
        )
    if perturbation.kind != kind:
        use = (
            "Case, Typos, Punctuation or EntitySwap"
            if kind == "text"
            else "Shift, Scale or CategorySwap"
        )
        raise ConfigError(
            f"perturbation {perturbation.name!r} changes {perturbation.kind} inputs but the "
            f"inputs are {kind}; use {use}"
        )


Describer = Callable[[int], tuple[Any, Any]]


def _text_describer(original: list[str], perturbed: list[str]) -> Describer:
    return lambda row: (original[row], perturbed[row])


def _table_describer(table: _Table, replaced: Mapping[str, NDArray[Any]]) -> Describer:
    def describe(row: int) -> tuple[Any, Any]:
        before, after = {}, {}
        for column, values in replaced.items():
            old, new = table.columns[column][row], values[row]
            if _changed_rows(np.asarray([old]), np.asarray([new]))[0]:
                before[column], after[column] = old, new
        return before, after

    return describe


def _outcome(
    name: str,
    task: Task,
    before_all: NDArray[Any],
    after: NDArray[Any],
    rows: NDArray[np.intp],
    n: int,
    gold: NDArray[Any] | None,
    tolerance: float,
    n_examples: int,
    rng: np.random.Generator,
    describe: Describer,
) -> PerturbationOutcome:
    before = before_all[rows]
    mean_abs_change = None
    if task == "regression":
        change = np.abs(after.astype(np.float64) - before.astype(np.float64))
        flipped = change > tolerance
        mean_abs_change = float(change.mean()) if len(rows) else None
    else:
        flipped = np.array(
            [a != b for a, b in zip(before.tolist(), after.tolist(), strict=True)], dtype=bool
        )
    metrics = None
    if gold is not None and len(rows):
        old, new = _metrics(task, gold[rows], before), _metrics(task, gold[rows], after)
        metrics = {
            metric: {
                "before": old[metric],
                "after": new[metric],
                "change": None
                if old[metric] is None or new[metric] is None
                else float(new[metric]) - float(old[metric]),  # type: ignore[arg-type]
            }
            for metric in old
        }
    flipped_at = np.flatnonzero(flipped)
    if len(flipped_at) > n_examples:
        flipped_at = np.sort(rng.choice(flipped_at, size=n_examples, replace=False))
    examples = []
    for position in flipped_at.tolist():
        row = int(rows[position])
        original, perturbed = describe(row)
        example = {
            "row": row,
            "original": original,
            "perturbed": perturbed,
            "prediction_before": before[position],
            "prediction_after": after[position],
        }
        if gold is not None:
            example["gold"] = gold[row]
        examples.append(example)
    n_flipped = int(flipped.sum())
    return PerturbationOutcome(
        name=name,
        n=len(rows),
        n_not_applicable=n - len(rows),
        n_flipped=n_flipped,
        flip_rate=n_flipped / len(rows) if len(rows) else None,
        mean_abs_change=mean_abs_change,
        metrics=metrics,
        examples=examples,
    )

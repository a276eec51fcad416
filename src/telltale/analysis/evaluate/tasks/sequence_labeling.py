"""Sequence labelling (NER, chunking): span F1 per sentence and per span, from CoNLL files.

The gold file and every system file are CoNLL (token and tag per line, blank line between
sentences) and must list the same tokens in the same order; the first sentence that differs is
named. Tags are BIO or BIOES (detected, or ``scheme=``). In ``tagging="strict"`` mode (the
default) an ill-formed sequence raises naming the file, line, sentence and token; in
``"lenient"`` mode it is repaired as conlleval/seqeval repair it and the repairs are counted.
A system entity type that never occurs in the gold file (nor in ``labels=``) raises unless
``unknown_labels="keep"``.

Two levels are scored:

- **example** (sentences): span precision/recall/F1 over the sentences of a bucket, resampling
  sentences; buckets by sentence length and entity density (gold entity tokens / tokens).
- **span**: each *span unit* is a distinct (sentence, start, end) among the gold spans and
  the system's predicted spans. A unit is a true positive when both exist with the same type,
  a miss when only gold exists (or the types differ), spurious when only the prediction does
  (or the types differ). Span features (length, label, capitalisation, relative position,
  characters) are computed on each side; a bucket's F1 counts gold spans whose gold side and
  predictions whose predicted side fall in it. For features of the span's position and text
  both sides agree, so a bucket's F1 equals ExplainaBoard's; for the label feature the bucket of
  ``LOC`` holds gold LOC spans and predicted LOC spans, so its F1 is the per-type F1 of seqeval.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from telltale.analysis.performance.bootstrap import Statistic
from telltale.errors import ConfigError, DataError

from ..metrics.span_f1 import Span, per_type_name, span_metrics, span_statistics
from ..readers.conll import ConllDocument, ConllSentence, read_conll
from ..scoring import Intervals, Scorer, Selection, SufficientStatistics, score_statistics
from ..tagging import Scheme, detect_scheme, first_violation, parse_tag, tag_spans
from ..text_features import capitalisation
from .base import (
    FeatureValues,
    Level,
    LossUnits,
    SystemFeature,
    TaskOptions,
    register_task,
    shared_feature,
    user_features,
)

__all__ = ["SequenceLabelingData", "SequenceLabelingTask"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

METRICS = ("f1", "precision", "recall")
SPURIOUS, MISSED = "spurious", "missed"


@dataclass(frozen=True)
class SpanUnits:
    """The span units of one system: distinct (sentence, start, end) of gold and predictions."""

    sentence: IntArray
    start: IntArray
    end: IntArray
    gold: IntArray  # type code of the gold span, -1 when there is none
    predicted: IntArray  # type code of the predicted span, -1 when there is none

    @property
    def match(self) -> BoolArray:
        return (self.gold >= 0) & (self.gold == self.predicted)


class SpanScorer:
    """Span-level micro precision/recall/F1 over the units of a bucket (resampling units)."""

    metrics = METRICS
    mean_metrics: frozenset[str] = frozenset()

    def __init__(self, units: SpanUnits) -> None:
        self.units = units

    def _statistics(self, selection: Selection | None) -> tuple[IntArray, FloatArray]:
        """The selected units and their ``[tp, predicted, gold]`` within the selection."""
        u = self.units
        rows = np.arange(len(u.gold)) if selection is None else selection.rows
        gold = u.gold[rows] >= 0
        predicted = u.predicted[rows] >= 0
        if selection is not None and selection.gold_side is not None:
            gold &= selection.gold_side
        if selection is not None and selection.predicted_side is not None:
            predicted &= selection.predicted_side
        tp = gold & predicted & u.match[rows]
        return rows, np.stack([tp, predicted, gold], axis=1).astype(np.float64)

    def score(self, selection: Selection | None, intervals: Intervals) -> dict[str, dict[str, Any]]:
        _, stats = self._statistics(selection)
        return score_statistics(stats, _micro, METRICS, {}, intervals)

    def example_statistics(self, selection: Selection | None) -> Statistic:
        """Each span unit's counts added to its sentence: sentences are what systems share."""
        rows, stats = self._statistics(selection)
        return Statistic(self.units.sentence[rows], values=stats)

    def metrics_from_sums(self, sums: FloatArray) -> dict[str, FloatArray]:
        return _micro(sums)


def _micro(sums: FloatArray) -> dict[str, FloatArray]:
    full = span_metrics(sums, [])
    return {name: full[name] for name in METRICS}


class SequenceLabelingData:
    """Gold and system CoNLL files, aligned, with spans and span units per system."""

    task = "ner"
    primary_metric = "f1"
    levels: tuple[Level, ...] = ("example", "span")

    def __init__(
        self,
        gold: ConllDocument,
        systems: dict[str, ConllDocument],
        scheme: Scheme,
        types: list[str],
        notes: list[str],
        options: TaskOptions,
    ) -> None:
        self.gold_document = gold
        self.documents = systems
        self.systems = list(systems)
        self.scheme = scheme
        self.types = types
        self.notes = notes
        self.options = options
        self.n_examples = len(gold.sentences)
        self.gold_spans = [tag_spans(s.tags) for s in gold.sentences]
        self.predicted_spans = {
            name: [tag_spans(s.tags) for s in doc.sentences] for name, doc in systems.items()
        }
        self.sentence_stats = {
            name: span_statistics(self.gold_spans, spans, types)
            for name, spans in self.predicted_spans.items()
        }
        self.units = {name: self._units(spans) for name, spans in self.predicted_spans.items()}

    # -- scoring ---------------------------------------------------------------------------

    def scorer(self, system: str, level: Level) -> Scorer:
        if level == "span":
            return SpanScorer(self.units[system])
        types = self.types
        return SufficientStatistics(
            self.sentence_stats[system], lambda sums: span_metrics(sums, types), METRICS
        )

    def per_label(self, system: str, intervals: Intervals) -> dict[str, Any]:
        stats = self.sentence_stats[system]
        names = (
            *tuple(per_type_name(metric, label) for label in self.types for metric in METRICS),
            "f1_macro",
        )
        types = self.types
        scored = score_statistics(
            stats, lambda sums: span_metrics(sums, types), names, {}, intervals
        )
        out: dict[str, Any] = {}
        for i, label in enumerate(self.types):
            entry: dict[str, Any] = {
                metric: scored[per_type_name(metric, label)] for metric in METRICS
            }
            entry["support"] = int(stats[:, 5 + 3 * i].sum())
            out[label] = entry
        out["macro"] = {"f1": scored["f1_macro"]}
        return out

    # -- spans ------------------------------------------------------------------------------

    def _units(self, predicted: list[list[Span]]) -> SpanUnits:
        code = {t: i for i, t in enumerate(self.types)}
        keyed: dict[tuple[int, int, int], list[int]] = {}
        for s, spans in enumerate(self.gold_spans):
            for label, start, end in spans:
                keyed[(s, start, end)] = [code[label], -1]
        for s, spans in enumerate(predicted):
            for label, start, end in spans:
                keyed.setdefault((s, start, end), [-1, -1])[1] = code[label]
        keys = sorted(keyed)
        array = np.array(keys, dtype=np.intp).reshape(-1, 3)
        labels = np.array([keyed[k] for k in keys], dtype=np.intp).reshape(-1, 2)
        return SpanUnits(array[:, 0], array[:, 1], array[:, 2], labels[:, 0], labels[:, 1])

    def _span_text(self, sentence: int, start: int, end: int) -> str:
        return " ".join(self.gold_document.sentences[sentence].tokens[start:end])

    # -- features ---------------------------------------------------------------------------

    def features(self) -> list[FeatureValues]:
        sentences = self.gold_document.sentences
        lengths = np.array([len(s.tokens) for s in sentences], dtype=np.float64)
        entity_tokens = np.array(
            [sum(end - start for _, start, end in spans) for spans in self.gold_spans],
            dtype=np.float64,
        )
        out = [
            shared_feature(
                "sentence_length", "numeric", "tokens in the sentence", lengths, self.systems
            ),
            shared_feature(
                "entity_density",
                "numeric",
                "gold entity tokens / tokens of the sentence",
                entity_tokens / lengths,
                self.systems,
            ),
        ]
        out.extend(user_features(self.options, self.n_examples, self.systems))
        geometry = {
            "span_length": ("numeric", "tokens in the span", self._span_length),
            "span_position": (
                "numeric",
                "start token / sentence length (0 = first token)",
                self._span_position,
            ),
            "span_characters": ("numeric", "characters of the span text", self._span_characters),
            "span_capitalisation": (
                "categorical",
                "lower / all_caps / title (first letter upper) / mixed",
                self._span_capitalisation,
            ),
        }
        for name, (kind, description, function) in geometry.items():
            out.append(self._geometry_feature(name, kind, description, function))
        out.append(self._label_feature())
        return out

    def _span_length(self, s: int, start: int, end: int) -> Any:
        return float(end - start)

    def _span_position(self, s: int, start: int, end: int) -> Any:
        return start / len(self.gold_document.sentences[s].tokens)

    def _span_characters(self, s: int, start: int, end: int) -> Any:
        return float(len(self._span_text(s, start, end)))

    def _span_capitalisation(self, s: int, start: int, end: int) -> Any:
        return capitalisation(self._span_text(s, start, end))

    def _geometry_feature(
        self, name: str, kind: Any, description: str, function: Any
    ) -> FeatureValues:
        missing: Any = np.nan if kind == "numeric" else None
        dtype: Any = np.float64 if kind == "numeric" else object
        union: dict[tuple[int, int, int], Any] = {}
        by_system: dict[str, SystemFeature] = {}
        for system, units in self.units.items():
            values = np.array(
                [
                    union.setdefault((int(s), int(a), int(b)), function(int(s), int(a), int(b)))
                    for s, a, b in zip(units.sentence, units.start, units.end, strict=True)
                ],
                dtype=dtype,
            )
            gold = np.where(units.gold >= 0, values, missing).astype(dtype)
            predicted = np.where(units.predicted >= 0, values, missing).astype(dtype)
            by_system[system] = SystemFeature(gold_side=gold, predicted_side=predicted)
        return FeatureValues(
            name, "span", kind, description, np.array(list(union.values()), dtype=dtype), by_system
        )

    def _label_feature(self) -> FeatureValues:
        names = np.array([*self.types, None], dtype=object)  # code -1 picks the trailing None
        union: dict[tuple[int, int, int, int], str] = {}
        by_system: dict[str, SystemFeature] = {}
        for system, units in self.units.items():
            for column in (units.gold, units.predicted):
                for s, a, b, label in zip(
                    units.sentence, units.start, units.end, column, strict=True
                ):
                    if label >= 0:
                        union[(int(s), int(a), int(b), int(label))] = self.types[label]
            by_system[system] = SystemFeature(
                gold_side=names[units.gold], predicted_side=names[units.predicted]
            )
        return FeatureValues(
            "span_label",
            "span",
            "categorical",
            "entity type (gold spans by their gold type, predictions by their predicted type)",
            np.array(list(union.values()), dtype=object),
            by_system,
        )

    # -- confusion, calibration, drill-down -------------------------------------------------

    def confusion(self, system: str) -> tuple[dict[str, Any], dict[str, IntArray]]:
        units = self.units[system]
        k = len(self.types)
        rows = np.where(units.gold >= 0, units.gold, k)
        columns = np.where(units.predicted >= 0, units.predicted, k)
        cells: dict[str, list[int]] = {}
        matrix = np.zeros((k + 1, k + 1), dtype=np.int64)
        gold_names = [*self.types, SPURIOUS]
        predicted_names = [*self.types, MISSED]
        for index, (r, c) in enumerate(zip(rows, columns, strict=True)):
            matrix[r, c] += 1
            cells.setdefault(f"{gold_names[r]} -> {predicted_names[c]}", []).append(index)
        table = {
            "level": "span",
            "gold": gold_names,
            "predicted": predicted_names,
            "matrix": matrix.tolist(),
        }
        return table, {name: np.array(members, dtype=np.intp) for name, members in cells.items()}

    def calibration_inputs(self, system: str) -> None:
        return None

    def unit_losses(self, system: str) -> LossUnits:
        """Span units; the loss is 1 unless the unit is a true positive (same span and type)."""
        units = self.units[system]
        return LossUnits(
            "span",
            (~units.match).astype(np.float64),
            True,
            units.sentence,
            "span error rate",
        )

    def describe(self, system: str, level: Level, unit: int) -> dict[str, Any]:
        if level == "span":
            units = self.units[system]
            s, start, end = int(units.sentence[unit]), int(units.start[unit]), int(units.end[unit])
            gold, predicted = int(units.gold[unit]), int(units.predicted[unit])
            return {
                "index": s,
                "span": [start, end],
                "text": self._span_text(s, start, end),
                "sentence": " ".join(self.gold_document.sentences[s].tokens),
                "gold": self.types[gold] if gold >= 0 else None,
                "prediction": self.types[predicted] if predicted >= 0 else None,
            }
        tokens = self.gold_document.sentences[unit].tokens

        def show(spans: list[Span]) -> list[str]:
            return [f"{label}: {' '.join(tokens[a:b])}" for label, a, b in spans]

        return {
            "index": unit,
            "text": " ".join(tokens),
            "gold": show(self.gold_spans[unit]),
            "prediction": show(self.predicted_spans[system][unit]),
        }


class SequenceLabelingTask:
    """NER and other span tagging from CoNLL files (BIO or BIOES)."""

    name = "ner"
    aliases = ("sequence-labeling", "sequence-labelling", "named-entity-recognition", "chunking")
    description = "sequence labelling: span precision/recall/F1 from CoNLL files (BIO/BIOES)"

    def load(
        self, data: Any, systems: Mapping[str, Any], options: TaskOptions
    ) -> SequenceLabelingData:
        if not isinstance(data, (str, Path)):
            raise ConfigError(
                f"task 'ner' reads CoNLL files; pass data= as a path, got {type(data).__name__}"
            )
        gold = read_conll(data, "gold")
        documents: dict[str, ConllDocument] = {}
        for name, source in systems.items():
            if not isinstance(source, (str, Path)):
                raise ConfigError(f"system {name!r}: pass the path of its CoNLL output file")
            documents[name] = read_conll(source, f"system {name!r}")
            _check_alignment(gold, documents[name], name)
        all_tags = [t for s in gold.sentences for t in s.tags]
        for doc in documents.values():
            all_tags.extend(t for s in doc.sentences for t in s.tags)
        scheme: Scheme = detect_scheme(all_tags) if options.scheme == "auto" else options.scheme  # type: ignore[assignment]
        notes: list[str] = []
        gold_types = _check_tags(gold, "gold", scheme, options, None, notes)
        gold_types |= set(options.labels or ())
        types = set(gold_types)
        for name, doc in documents.items():
            types |= _check_tags(doc, f"system {name!r}", scheme, options, gold_types, notes)
        if gold.n_docstart:
            notes.append(f"{gold.n_docstart:,} -DOCSTART- lines were skipped")
        notes.append(f"tag scheme: {scheme.upper()}; tagging mode: {options.tagging}")
        return SequenceLabelingData(gold, documents, scheme, sorted(types), notes, options)


def _describe(sentence: ConllSentence, token: int) -> str:
    return f"line {sentence.line_of(token)}, token {token + 1} {sentence.tokens[token]!r}"


def _check_alignment(gold: ConllDocument, system: ConllDocument, name: str) -> None:
    for index, (g, s) in enumerate(zip(gold.sentences, system.sentences, strict=False)):
        if g.tokens == s.tokens:
            continue
        position = next(
            (i for i, (a, b) in enumerate(zip(g.tokens, s.tokens, strict=False)) if a != b),
            min(len(g.tokens), len(s.tokens)),
        )
        gold_token = g.tokens[position] if position < len(g.tokens) else "<end of sentence>"
        system_token = s.tokens[position] if position < len(s.tokens) else "<end of sentence>"
        raise DataError(
            f"system {name!r} file {system.path!r} does not line up with the gold file "
            f"{gold.path!r}: sentence {index + 1} (gold line {g.first_line}, system line "
            f"{s.first_line}) has {len(s.tokens)} tokens in the system file and {len(g.tokens)} "
            f"in gold; first difference at token {position + 1}: gold {gold_token!r}, system "
            f"{system_token!r}. Both files must list the same tokens in the same order — "
            "regenerate the output from the gold tokens (a tokenizer may have dropped them)",
            details={"system": name, "sentence": index + 1, "token": position + 1},
        )
    if len(gold.sentences) != len(system.sentences):
        shared = min(len(gold.sentences), len(system.sentences))
        longer, role = (
            (gold, "gold") if len(gold.sentences) > len(system.sentences) else (system, "system")
        )
        extra = longer.sentences[shared]
        raise DataError(
            f"system {name!r} file {system.path!r} has {_count(len(system.sentences))} but "
            f"the gold file {gold.path!r} has {len(gold.sentences):,}; the first {shared:,} "
            f"line up, and the {role} file goes on at line {extra.first_line} "
            f"({extra.tokens[0]!r}, sentence {shared + 1}) — check for a missing or extra "
            "blank line, or a truncated file",
            details={"system": name, "sentence": shared + 1},
        )


def _count(sentences: int) -> str:
    return f"{sentences:,} sentence" + ("" if sentences == 1 else "s")


def _check_tags(
    document: ConllDocument,
    role: str,
    scheme: Scheme,
    options: TaskOptions,
    gold_types: set[str] | None,
    notes: list[str],
) -> set[str]:
    """The entity types of ``document``; raises on bad tags as ``options`` ask, notes repairs."""
    types: set[str] = set()
    repairs = 0
    first_repair = ""
    for index, sentence in enumerate(document.sentences):
        for position, tag in enumerate(sentence.tags):
            try:
                _, kind = parse_tag(tag)
            except ValueError as exc:
                raise DataError(
                    f"{role} file {document.path!r} sentence {index + 1}, "
                    f"{_describe(sentence, position)}: {exc}; fix the tag",
                    details={"sentence": index + 1, "token": position + 1, "tag": tag},
                ) from None
            unknown = bool(kind) and gold_types is not None and kind not in gold_types
            if unknown and options.unknown_labels == "error":
                raise DataError(
                    f"{role} file {document.path!r} sentence {index + 1}, "
                    f"{_describe(sentence, position)}: tag {tag!r} has the entity type "
                    f"{kind!r}, which never occurs in the gold file (its types: "
                    f"{sorted(gold_types or ())}); fix the tag, pass labels=[...] (--labels) with "
                    "every entity type, or unknown_labels='keep' (--unknown-labels keep) to "
                    "score it as a wrong type",
                    details={"sentence": index + 1, "token": position + 1, "tag": tag},
                )
            if kind:
                types.add(kind)
        violation = first_violation(sentence.tags, scheme)
        if violation is not None:
            position, reason = violation
            where = f"{role} file {document.path!r} sentence {index + 1}, {_describe(sentence, position)}"
            if options.tagging == "strict":
                raise DataError(
                    f"{where}: {reason}; fix the tags, or pass tagging='lenient' (--lenient) to "
                    "repair them as conlleval/seqeval do (the tag then begins a new chunk)",
                    details={"sentence": index + 1, "token": position + 1},
                )
            repairs += 1
            first_repair = first_repair or where
    if repairs:
        notes.append(
            f"{role}: {repairs:,} sentence{'s' if repairs != 1 else ''} with ill-formed "
            f"{scheme.upper()} tags repaired as conlleval does (first: {first_repair})"
        )
    return types


register_task(SequenceLabelingTask())

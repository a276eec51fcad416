"""Alert rules as data: parsed from YAML or JSON, checked field by field.

A rules file holds ``rules`` and, optionally, the ``channels`` they notify and the ``actions``
they may call (docs/alerts.md)::

    channels:
      - {name: oncall, type: slack, url: "https://hooks.slack.com/services/T0/B0/XYZ"}
    rules:
      - name: p99-latency
        model: fraud
        metric: latency_p99_ms
        window: 5m
        comparison: ">"
        thresholds: {warning: 300, critical: 500}
        for: 5m
        group_by: [version, environment]
        channels: [oncall]

Every problem is reported with the rule, the field and the fix; one bad rule never disables the
good ones: :func:`parse_rules` returns the good rules *and* the errors, and the caller decides
(``telltale alerts apply`` refuses a file with errors unless ``--partial``; the evaluation loop
keeps running the rules that parsed).

>>> parsed = parse_rules('''
... rules:
...   - {name: errors, model: fraud, metric: error_rate, window: 10m, comparison: ">",
...      thresholds: {warning: 0.01, critical: 0.05}}
...   - {name: typo, model: fraud, metric: eror_rate, window: 10m, thresholds: {warning: 1}}
... ''')
>>> [rule.name for rule in parsed.rules]
['errors']
>>> print(parsed.errors[0])
rule 'typo' (rules[1]).metric: unknown metric 'eror_rate'; did you mean 'error_rate'? (known: see `telltale alerts metrics`)
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from telltale.errors import ConfigError
from telltale.schema.result import Result

__all__ = [
    "COMPARISONS",
    "METRICS",
    "ActionConfig",
    "Baseline",
    "MetricSpec",
    "ParsedRules",
    "Rule",
    "RuleError",
    "parse_duration",
    "parse_rules",
]

Source = Literal["serving", "performance", "estimate", "drift", "quality", "resources", "clients"]


@dataclass(frozen=True)
class MetricSpec:
    """What a rule's ``metric`` names: where it comes from and which way is bad."""

    name: str
    source: Source
    description: str
    bad: Literal["high", "low"]
    """The direction that is bad, for the default comparison and for learned baselines."""
    unit: str = ""


_SERVING = [
    ("events", "events in the window", "low", ""),
    ("throughput_per_s", "events per second", "low", "1/s"),
    ("latency_p50_ms", "median latency", "high", "ms"),
    ("latency_p95_ms", "95th percentile latency", "high", "ms"),
    ("latency_p99_ms", "99th percentile latency", "high", "ms"),
    ("latency_mean_ms", "mean latency", "high", "ms"),
    ("error_rate", "share of calls that raised", "high", ""),
    ("invalid_rate", "share of outputs that failed validation", "high", ""),
    ("timeout_rate", "share of calls that timed out", "high", ""),
    ("fallback_rate", "share of calls answered by the fallback", "high", ""),
    ("prediction_mean", "mean of numeric predictions", "high", ""),
]
_PERFORMANCE = [
    ("accuracy", "accuracy of labelled events", "low", ""),
    ("macro_f1", "macro F1 of labelled events", "low", ""),
    ("mae", "mean absolute error of labelled events", "high", ""),
    ("rmse", "root mean squared error of labelled events", "high", ""),
    ("r2", "R² of labelled events", "low", ""),
    ("label_coverage", "share of events with a label", "low", ""),
]
METRICS: dict[str, MetricSpec] = {
    **{n: MetricSpec(n, "serving", d, b, u) for n, d, b, u in _SERVING},  # type: ignore[arg-type]
    **{n: MetricSpec(n, "performance", d, b, u) for n, d, b, u in _PERFORMANCE},  # type: ignore[arg-type]
    "estimated_accuracy": MetricSpec(
        "estimated_accuracy",
        "estimate",
        "accuracy estimated without labels from the model's `score` output, calibrated on the "
        "labels of the last 30 days (for when labels are late or missing)",
        "low",
    ),
    "drift": MetricSpec(
        "drift",
        "drift",
        "statistic of the drift test of `feature` (or the worst feature, `feature: '*'`) "
        "against the rule's `reference`",
        "high",
    ),
    "drift_share": MetricSpec(
        "drift_share", "drift", "share of features that drifted against `reference`", "high"
    ),
    **{
        n: MetricSpec(n, "quality", d, "high")
        for n, d in (
            ("missing_rate", "share of missing values of `feature` (or the worst, `'*'`)"),
            (
                "out_of_range_share",
                "share of values of `feature` (or the worst) outside the reference's range",
            ),
            (
                "new_category_share",
                "share of rows of `feature` (or the worst) with a category the reference never saw",
            ),
        )
    },
    **{
        n: MetricSpec(n, "resources", d, "high", u)
        for n, d, u in (
            ("cpu_percent", "CPU use of the model's process (the busiest instance)", "%"),
            ("rss_mb", "resident memory of the model's process (the largest instance)", "MB"),
            ("gpu_percent", "GPU use of the model's process (the busiest instance)", "%"),
            ("gpu_memory_mb", "GPU memory of the model's process (the largest instance)", "MB"),
            ("loop_lag_ms", "asyncio event-loop lag in the model's process (the worst)", "ms"),
        )
    },
    "dropped_events": MetricSpec(
        "dropped_events",
        "clients",
        "events the SDK clients dropped (full buffer), in total",
        "high",
    ),
}
"""Every metric a rule can watch."""

COMPARISONS = (">", ">=", "<", "<=")
_GROUP_KEYS = ("version", "environment")
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(s|m|h|d|w)\s*$")  # ASCII digits only
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")


def parse_duration(text: Any, field_name: str = "duration") -> float:
    """Seconds of ``"90s"``, ``"5m"``, ``"1h"``, ``"7d"``, ``"2w"`` (or a number of seconds).

    >>> parse_duration("5m"), parse_duration("1.5h"), parse_duration(30)
    (300.0, 5400.0, 30.0)
    """
    if isinstance(text, bool):
        raise ConfigError(f"{field_name} {text!r} is not a duration; write e.g. 5m, 1h or 7d")
    if isinstance(text, (int, float)):
        if not math.isfinite(text) or text < 0:
            raise ConfigError(f"{field_name} {text!r} is not a duration; write e.g. 5m, 1h or 7d")
        return float(text)
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None:
        raise ConfigError(f"{field_name} {text!r} is not a duration; write e.g. 5m, 1h or 7d")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


@dataclass
class Baseline(Result):
    """How the thresholds are meant.

    - ``fixed``: the thresholds are values of the metric.
    - ``reference``: the thresholds are *relative changes* from ``reference_value`` (0.2 = 20%
      worse than it, in the bad direction).
    - ``learned``: no thresholds; the metric's own history (``history``) gives a seasonal,
      robust band (:mod:`telltale.alerts.anomaly`); ``warning``/``critical`` are the band's
      widths in robust standard deviations (defaults 3 and 5). With ``changes`` (the default)
      a CUSUM of the same robust z-scores also fires, as a warning, on a level shift or slow
      drift in the bad direction that stays inside the band.
    """

    mode: Literal["fixed", "reference", "learned"] = "fixed"
    reference_value: float | None = None
    history_s: float = 14 * 86_400.0
    changes: bool = True


@dataclass
class ActionConfig(Result):
    """A hook a rule calls when it fires at a severity (``on``), maybe after approval."""

    hook: str
    on: Literal["warning", "critical"] = "critical"
    approval: bool = False


@dataclass
class Rule(Result):
    """One validated rule (see the module docstring for the file format)."""

    name: str
    model: str
    metric: str
    window_s: float
    window: str
    comparison: str
    warning: float | None
    critical: float | None
    for_s: float = 0.0
    baseline: Baseline = field(default_factory=Baseline)
    version: str | None = None
    environment: str | None = None
    segment: dict[str, str] = field(default_factory=dict)
    group_by: list[str] = field(default_factory=list)
    feature: str | None = None
    reference: str | None = None
    min_events: int = 1
    channels: list[str] = field(default_factory=list)
    repeat_s: float = 4 * 3600.0
    """A firing alert is notified again after this long (0: never), unless acknowledged."""
    actions: list[ActionConfig] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    description: str = ""
    source: dict[str, Any] = field(default_factory=dict)
    """The rule as written (for `telltale alerts list` and the API)."""

    @property
    def spec(self) -> MetricSpec:
        return METRICS[self.metric]

    def severity_of(self, value: float | None, bounds: tuple[float | None, float | None]) -> str:
        """``critical``, ``warning`` or ``ok`` for ``value`` against (warning, critical)."""
        if value is None or not math.isfinite(value):
            return "ok"
        warning, critical = bounds
        if critical is not None and _breaches(value, self.comparison, critical):
            return "critical"
        if warning is not None and _breaches(value, self.comparison, warning):
            return "warning"
        return "ok"


def _breaches(value: float, comparison: str, threshold: float) -> bool:
    if comparison == ">":
        return value > threshold
    if comparison == ">=":
        return value >= threshold
    if comparison == "<":
        return value < threshold
    return value <= threshold


@dataclass
class RuleError(Result):
    """One problem of a rules file: which rule, which field, what is wrong and the fix."""

    rule: str | None
    index: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = "rules file"
        if self.index is not None:
            where = (
                f"rule {self.rule!r} (rules[{self.index}])" if self.rule else f"rules[{self.index}]"
            )
        elif self.rule is not None:
            where = self.rule
        return f"{where}.{self.field}: {self.message}" if self.field else f"{where}: {self.message}"


@dataclass
class ParsedRules(Result):
    """The good rules, the channel and action configs, and every error found."""

    rules: list[Rule] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)

    def raise_errors(self) -> None:
        """Raise :class:`ConfigError` listing every error, when there are any."""
        if self.errors:
            lines = "\n".join(f"  - {e}" for e in self.errors)
            raise ConfigError(
                f"{len(self.errors)} problem(s) in the rules:\n{lines}",
                details={"errors": [e.to_dict() for e in self.errors]},
            )


_RULE_KEYS = {
    "name", "description", "model", "metric", "window", "comparison", "thresholds", "for",
    "baseline", "version", "environment", "segment", "group_by", "feature", "reference",
    "min_events", "channels", "repeat", "actions", "labels",
}  # fmt: skip


class _Bad(Exception):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def load_document(text: str | bytes, name: str = "rules") -> Any:
    """The YAML or JSON document of ``text`` (JSON is YAML, but its errors read better)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ConfigError(f"{name} is not UTF-8 text ({error}); save it as UTF-8") from None
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(
                f"{name} is not valid JSON: {error.msg} at line {error.lineno}, column "
                f"{error.colno}; fix the syntax (or write YAML)"
            ) from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(
            f"{name} is not valid YAML{where}: {problem}; check the indentation and quoting "
            "(quote values such as '>' and '*')"
        ) from None


def parse_rules(
    document: str | bytes | dict[str, Any] | list[Any],
    *,
    channel_names: set[str] | None = None,
    hook_names: set[str] | None = None,
    name: str = "rules",
) -> ParsedRules:
    """Parse and check a rules document (YAML/JSON text, or the loaded dict/list).

    A list is taken as the ``rules``. Channels and actions the rules name must be defined in the
    document or be in ``channel_names`` / ``hook_names`` (those already stored). Raises
    :class:`ConfigError` only when the document itself cannot be read; every rule-level problem
    goes into :attr:`ParsedRules.errors`.
    """
    data = load_document(document, name) if isinstance(document, (str, bytes)) else document
    if data is None:
        data = {}
    if isinstance(data, list):
        data = {"rules": data}
    parsed = ParsedRules()
    if not isinstance(data, dict):
        parsed.errors.append(
            RuleError(None, None, "", f"is a {type(data).__name__}; write a mapping with `rules:`")
        )
        return parsed
    unknown = sorted(set(data) - {"rules", "channels", "actions"})
    if unknown:
        parsed.errors.append(
            RuleError(
                None, None, "", f"unknown top-level key(s) {unknown}; use rules, channels, actions"
            )
        )
    parsed.channels = _named_list(data.get("channels"), "channels", parsed.errors)
    _check_channels(parsed.channels, parsed.errors)
    parsed.actions = _named_list(data.get("actions"), "actions", parsed.errors)
    from telltale.alerts.actions import hook_errors  # it builds on this module

    parsed.errors += hook_errors(parsed.actions)
    channels = {c["name"] for c in parsed.channels} | set(channel_names or ())
    hooks = {a["name"] for a in parsed.actions} | set(hook_names or ())
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        parsed.errors.append(
            RuleError(
                None, None, "rules", f"is a {type(raw_rules).__name__}; write a list of rules"
            )
        )
        return parsed
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        rule_name = raw.get("name") if isinstance(raw, dict) else None
        label = rule_name if isinstance(rule_name, str) else None
        try:
            rule = _rule(raw, channels, hooks)
        except _Bad as bad:
            parsed.errors.append(RuleError(label, index, bad.field, bad.message))
            continue
        if rule.name in seen:
            parsed.errors.append(
                RuleError(
                    rule.name, index, "name", "is used by an earlier rule; names must be unique"
                )
            )
            continue
        seen.add(rule.name)
        parsed.rules.append(rule)
    return parsed


def _check_channels(channels: list[dict[str, Any]], errors: list[RuleError]) -> None:
    """Build each channel once, so a bad URL or a missing key is reported with the rules."""
    from telltale.alerts.notifiers import channel_from_config

    seen: set[str] = set()
    for index, config in enumerate(channels):
        try:
            channel_from_config(config)
        except ConfigError as error:
            errors.append(
                RuleError(None, None, f"channels[{index}] ({config['name']})", str(error))
            )
        if config["name"] in seen:
            errors.append(
                RuleError(
                    None, None, f"channels[{index}]", f"name {config['name']!r} is used twice"
                )
            )
        seen.add(config["name"])


def _named_list(value: Any, section: str, errors: list[RuleError]) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(RuleError(None, None, section, "must be a list of mappings with a `name`"))
        return []
    out: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            errors.append(
                RuleError(None, None, f"{section}[{index}]", "needs a mapping with a string `name`")
            )
            continue
        out.append(item)
    return out


def _rule(raw: Any, channels: set[str], hooks: set[str]) -> Rule:
    if not isinstance(raw, dict):
        raise _Bad("", f"is a {type(raw).__name__}; write a mapping (name, model, metric, ...)")
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        hints = [difflib.get_close_matches(k, _RULE_KEYS, 1) for k in unknown]
        hint = "; ".join(
            f"{k!r}: did you mean {h[0]!r}?" for k, h in zip(unknown, hints, strict=True) if h
        )
        raise _Bad(unknown[0], f"unknown field(s) {unknown}" + (f" ({hint})" if hint else ""))
    name = _string(raw, "name", required=True)
    if not _NAME.match(name):
        raise _Bad("name", f"{name!r} is not a name; use letters, digits, '_', '-', '.' (≤ 100)")
    model = _string(raw, "model", required=True)
    metric = _string(raw, "metric", required=True)
    if metric not in METRICS:
        close = difflib.get_close_matches(metric, METRICS, 1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise _Bad(
            "metric", f"unknown metric {metric!r}{hint} (known: see `telltale alerts metrics`)"
        )
    spec = METRICS[metric]
    window_text = raw.get("window", "5m")
    window_s = _duration(raw, "window", "5m")
    if window_s < 60:
        raise _Bad(
            "window",
            f"{window_text!r} is shorter than a minute, the store's resolution; use 1m or more",
        )
    comparison = raw.get("comparison", ">" if spec.bad == "high" else "<")
    if comparison not in COMPARISONS:
        raise _Bad(
            "comparison",
            f"{comparison!r} is not one of {list(COMPARISONS)}; quote it in YAML ('>')",
        )
    baseline = _baseline(raw.get("baseline"))
    if baseline.mode == "learned" and spec.source in ("drift", "quality", "clients"):
        raise _Bad(
            "baseline",
            f"a learned baseline needs an hourly history, which {metric!r} has not; "
            "give fixed thresholds",
        )
    warning, critical = _thresholds(raw.get("thresholds"), comparison, baseline)
    group_by = raw.get("group_by", [])
    if isinstance(group_by, str):
        group_by = [group_by]
    if not isinstance(group_by, list) or any(g not in _GROUP_KEYS for g in group_by):
        raise _Bad("group_by", f"{group_by!r}: group by any of {list(_GROUP_KEYS)}")
    segment = raw.get("segment", {})
    if not isinstance(segment, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in segment.items()
    ):
        raise _Bad("segment", "must map tag names to string values, e.g. {region: eu}")
    feature = _string(raw, "feature")
    reference = _string(raw, "reference")
    if spec.source in ("drift", "quality"):
        if reference is None:
            raise _Bad(
                "reference", f"metric {metric!r} needs the name of a stored reference profile"
            )
        if metric != "drift_share" and feature is None:
            raise _Bad("feature", "name the feature to watch, or '*' for the worst of all")
    elif feature is not None:
        raise _Bad(
            "feature", f"only drift and data-quality metrics take a feature; {metric!r} does not"
        )
    if spec.source == "resources":
        # resource samples are per process: they carry the model, not versions or segments
        for key, given in (
            ("group_by", group_by),
            ("version", raw.get("version")),
            ("environment", raw.get("environment")),
            ("segment", segment),
        ):
            if given:
                raise _Bad(
                    key,
                    f"resource metric {metric!r} is measured per process, not per {key}; "
                    f"remove {key!r}",
                )
    rule_channels = raw.get("channels", [])
    if not isinstance(rule_channels, list) or not all(isinstance(c, str) for c in rule_channels):
        raise _Bad("channels", "must be a list of channel names")
    missing = [c for c in rule_channels if c not in channels]
    if missing:
        known = sorted(channels) or "none yet"
        raise _Bad(
            "channels",
            f"unknown channel(s) {missing} (defined: {known}); add them under `channels:`",
        )
    actions = _actions(raw.get("actions"), hooks)
    labels = raw.get("labels", {})
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise _Bad("labels", "must map names to strings, e.g. {team: risk, runbook: https://...}")
    min_events = raw.get("min_events", 1)
    if isinstance(min_events, bool) or not isinstance(min_events, int) or min_events < 0:
        raise _Bad("min_events", f"{min_events!r} is not a whole number ≥ 0")
    return Rule(
        name=name,
        model=model,
        metric=metric,
        window_s=window_s,
        window=str(window_text),
        comparison=comparison,
        warning=warning,
        critical=critical,
        for_s=_duration(raw, "for", 0),
        baseline=baseline,
        version=_string(raw, "version"),
        environment=_string(raw, "environment"),
        segment=dict(segment),
        group_by=list(group_by),
        feature=feature,
        reference=reference,
        min_events=min_events,
        channels=list(rule_channels),
        repeat_s=_duration(raw, "repeat", "4h"),
        actions=actions,
        labels={str(k): v for k, v in labels.items()},
        description=_string(raw, "description") or "",
        source=dict(raw),
    )


def _string(raw: dict[str, Any], key: str, *, required: bool = False) -> Any:
    value = raw.get(key)
    if value is None:
        if required:
            raise _Bad(key, "is missing")
        return None
    if not isinstance(value, str) or not value or len(value) > 200:
        raise _Bad(key, f"{value!r} is not a string of 1-200 characters")
    return value


def _duration(raw: dict[str, Any], key: str, default: Any) -> float:
    try:
        return parse_duration(raw.get(key, default), key)
    except ConfigError as error:
        raise _Bad(key, str(error)) from None


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _Bad(key, f"{value!r} is not a finite number")
    return float(value)


def _baseline(raw: Any) -> Baseline:
    if raw is None or raw == "fixed":
        return Baseline()
    if isinstance(raw, str):
        raw = {"mode": raw}
    if not isinstance(raw, dict):
        raise _Bad("baseline", "write fixed, reference or learned, or {mode: ..., ...}")
    mode = raw.get("mode", "fixed")
    unknown = sorted(set(raw) - {"mode", "value", "history", "changes"})
    if unknown:
        raise _Bad(
            "baseline",
            f"unknown key(s) {unknown}; use mode, value (reference), history and changes (learned)",
        )
    if mode == "fixed":
        return Baseline()
    if mode == "reference":
        if "value" not in raw:
            raise _Bad(
                "baseline.value", "a reference baseline needs the reference value of the metric"
            )
        return Baseline("reference", reference_value=_number(raw["value"], "baseline.value"))
    if mode == "learned":
        try:
            history = parse_duration(raw.get("history", "14d"), "baseline.history")
        except ConfigError as error:
            raise _Bad("baseline.history", str(error)) from None
        if history < 86_400:
            raise _Bad(
                "baseline.history",
                "learn from at least 1d of history (7d or more for weekly seasons)",
            )
        changes = raw.get("changes", True)
        if not isinstance(changes, bool):
            raise _Bad("baseline.changes", f"{changes!r} is not true or false")
        return Baseline("learned", history_s=history, changes=changes)
    raise _Bad("baseline.mode", f"{mode!r} is not one of fixed, reference, learned")


def _thresholds(raw: Any, comparison: str, baseline: Baseline) -> tuple[float | None, float | None]:
    if raw is None:
        if baseline.mode == "learned":
            return 3.0, 5.0
        raise _Bad("thresholds", "is missing; write e.g. {warning: 0.01, critical: 0.05}")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raw = {"critical": raw}
    if not isinstance(raw, dict) or not raw or set(raw) - {"warning", "critical"}:
        raise _Bad("thresholds", "write {warning: X, critical: Y} (either may be left out)")
    warning = _number(raw["warning"], "thresholds.warning") if "warning" in raw else None
    critical = _number(raw["critical"], "thresholds.critical") if "critical" in raw else None
    if baseline.mode == "learned":
        for value, key in ((warning, "warning"), (critical, "critical")):
            if value is not None and value <= 0:
                raise _Bad(f"thresholds.{key}", "a learned band's width (robust σ) must be > 0")
        if warning is not None and critical is not None and critical < warning:
            raise _Bad(
                "thresholds",
                f"critical ({critical:g}σ) is narrower than warning ({warning:g}σ); swap them",
            )
        return warning, critical
    if warning is not None and critical is not None:
        upward = comparison in (">", ">=") or baseline.mode == "reference"
        if upward and critical < warning:
            raise _Bad(
                "thresholds",
                f"critical {critical:g} is below warning {warning:g}, but with {comparison!r} "
                "critical must be the further one; swap them",
            )
        if not upward and critical > warning:
            raise _Bad(
                "thresholds",
                f"critical {critical:g} is above warning {warning:g}, but with {comparison!r} "
                "critical must be the lower one; swap them",
            )
    return warning, critical


def _actions(raw: Any, hooks: set[str]) -> list[ActionConfig]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _Bad("actions", "must be a list of {hook: NAME, on: critical, approval: true}")
    out: list[ActionConfig] = []
    for index, item in enumerate(raw):
        key = f"actions[{index}]"
        if isinstance(item, str):
            item = {"hook": item}
        if isinstance(item, dict) and True in item:  # YAML 1.1 reads a bare `on:` key as true
            item = {("on" if k is True else k): v for k, v in item.items()}
        if not isinstance(item, dict) or set(item) - {"hook", "on", "approval"}:
            raise _Bad(key, "write {hook: NAME, on: critical, approval: true}")
        hook = item.get("hook")
        if hook not in hooks:
            known = sorted(hooks) or "none yet"
            raise _Bad(
                f"{key}.hook", f"unknown hook {hook!r} (defined: {known}); add it under `actions:`"
            )
        on = item.get("on", "critical")
        if on not in ("warning", "critical"):
            raise _Bad(f"{key}.on", f"{on!r} is not warning or critical")
        approval = item.get("approval", False)
        if not isinstance(approval, bool):
            raise _Bad(f"{key}.approval", "must be true or false")
        out.append(ActionConfig(hook=hook, on=on, approval=approval))
    return out

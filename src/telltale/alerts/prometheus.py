"""Rules as Prometheus alerting rules, for teams that route alerts through Alertmanager.

Each rule becomes one Prometheus rule per severity, over the series the collector exports on
``/metrics`` (docs/server.md): latency percentiles from the ``telltale_prediction_latency_seconds``
histogram, rates from ``telltale_events_total``, drift from ``telltale_drift_score`` and
performance from ``telltale_performance``. What PromQL cannot say is left out with a comment:
learned baselines (they live in telltale's own loop), segments (not a label on /metrics),
environment filters and the per-feature drift of a reference other than the model's own.

>>> from telltale.alerts.rules import parse_rules
>>> rules = parse_rules('''rules:
...   - {name: p99, model: fraud, metric: latency_p99_ms, window: 5m, for: 5m,
...      thresholds: {warning: 300, critical: 500}}''').rules
>>> text = prometheus_rules(rules)
>>> "histogram_quantile(0.99" in text and "for: 5m" in text and "severity: critical" in text
True
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from telltale.alerts.rules import Rule

__all__ = ["prometheus_expression", "prometheus_rules"]

_QUANTILES = {"latency_p50_ms": 0.5, "latency_p95_ms": 0.95, "latency_p99_ms": 0.99}
_STATUS = {
    "error_rate": "error",
    "invalid_rate": "invalid",
    "timeout_rate": "timeout",
    "fallback_rate": "fallback",
}
_PERFORMANCE = {
    "accuracy": "accuracy",
    "macro_f1": "macro_f1",
    "mae": "mae",
    "rmse": "rmse",
    "r2": "r2",
    "label_coverage": "coverage",
}


def _range(seconds: float) -> str:
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _selector(labels: dict[str, str]) -> str:
    return "{" + ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(labels.items())) + "}"


def prometheus_expression(rule: Rule) -> str | None:
    """The PromQL of the rule's metric, or None when Prometheus' series cannot give it."""
    by = ", ".join(["model", *(["version"] if "version" in rule.group_by else [])])
    labels = {"model": rule.model, **({"version": rule.version} if rule.version else {})}
    window = _range(rule.window_s)
    if (
        rule.baseline.mode == "learned"
        or rule.segment
        or rule.environment
        or "environment" in rule.group_by
    ):
        return None
    events = f"telltale_events_total{_selector(labels)}"
    if rule.metric in _QUANTILES:
        buckets = f"telltale_prediction_latency_seconds_bucket{_selector(labels)}"
        return (
            f"histogram_quantile({_QUANTILES[rule.metric]}, "
            f"sum by (le, {by}) (rate({buckets}[{window}]))) * 1000"
        )
    if rule.metric == "latency_mean_ms":
        total = f"telltale_prediction_latency_seconds_sum{_selector(labels)}"
        count = f"telltale_prediction_latency_seconds_count{_selector(labels)}"
        return (
            f"sum by ({by}) (rate({total}[{window}])) / "
            f"sum by ({by}) (rate({count}[{window}])) * 1000"
        )
    if rule.metric in _STATUS:
        bad = f"telltale_events_total{_selector({**labels, 'status': _STATUS[rule.metric]})}"
        return f"sum by ({by}) (rate({bad}[{window}])) / sum by ({by}) (rate({events}[{window}]))"
    if rule.metric == "throughput_per_s":
        return f"sum by ({by}) (rate({events}[{window}]))"
    if rule.metric == "events":
        return f"sum by ({by}) (increase({events}[{window}]))"
    if rule.metric in _PERFORMANCE and "version" not in rule.group_by and not rule.version:
        metric = {"model": rule.model, "metric": _PERFORMANCE[rule.metric]}
        return f"max by (model) (telltale_performance{_selector(metric)})"
    if rule.metric == "drift" and "version" not in rule.group_by and not rule.version:
        selected = {"model": rule.model}
        if rule.feature and rule.feature != "*":
            selected["feature"] = rule.feature
        return f"max by (model) (telltale_drift_score{_selector(selected)})"
    if rule.metric == "dropped_events":
        return "sum(telltale_client_dropped_events)"
    return None


def _threshold(rule: Rule, value: float) -> float:
    if rule.baseline.mode != "reference":
        return value
    reference = rule.baseline.reference_value or 0.0
    upward = rule.comparison in (">", ">=")
    return reference + abs(reference) * value * (1 if upward else -1)


def prometheus_rules(rules: Sequence[Rule], *, group: str = "telltale") -> str:
    """A Prometheus rules file (YAML) with the rules PromQL can express."""
    import yaml

    out: list[dict[str, Any]] = []
    skipped: list[str] = []
    for rule in rules:
        expression = prometheus_expression(rule)
        if expression is None:
            skipped.append(rule.name)
            continue
        for severity in ("warning", "critical"):
            value = rule.warning if severity == "warning" else rule.critical
            if value is None:
                continue
            entry: dict[str, Any] = {
                "alert": f"{rule.name}-{severity}",
                "expr": f"({expression}) {rule.comparison} {_threshold(rule, value):g}",
            }
            if rule.for_s:
                entry["for"] = _range(rule.for_s)
            entry["labels"] = {"severity": severity, "telltale_rule": rule.name, **rule.labels}
            entry["annotations"] = {
                "summary": f"{{{{ $labels.model }}}}: {rule.metric} {{{{ $value }}}} "
                f"{rule.comparison} {_threshold(rule, value):g} ({severity})",
                "description": rule.description or f"telltale rule {rule.name}",
            }
            out.append(entry)
    text = yaml.safe_dump({"groups": [{"name": group, "rules": out}]}, sort_keys=False)
    if skipped:
        text = (
            "# not expressible in PromQL (learned baselines, segments or environments): "
            + ", ".join(skipped)
            + "\n"
            + text
        )
    return text

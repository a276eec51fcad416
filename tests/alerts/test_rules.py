"""Rules files: every problem named with the rule, the field and the fix; a bad rule never
disables the good ones; thresholds in the right order; the Prometheus export passes promtool."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from telltale.alerts.prometheus import prometheus_rules
from telltale.alerts.rules import METRICS, parse_duration, parse_rules
from telltale.errors import ConfigError

GOOD = {"name": "ok", "model": "fraud", "metric": "error_rate", "window": "5m",
        "thresholds": {"warning": 0.01, "critical": 0.05}}  # fmt: skip


def _errors(**change: object) -> list[str]:
    rule = {**GOOD, "name": "bad", **change}
    rule = {k: v for k, v in rule.items() if v is not None}
    parsed = parse_rules({"rules": [GOOD, rule]})
    assert [r.name for r in parsed.rules] == ["ok"], parsed.errors  # the good one stays
    return [str(e) for e in parsed.errors]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            {"metric": "eror_rate"},
            "rules[1]).metric: unknown metric 'eror_rate'; did you mean 'error_rate'?",
        ),
        (
            {"thresholds": {"warning": 0.05, "critical": 0.01}},
            "thresholds: critical 0.01 is below warning 0.05",
        ),
        (
            {"comparison": "<", "thresholds": {"warning": 0.8, "critical": 0.9}},
            "critical 0.9 is above warning 0.8",
        ),
        ({"channels": ["pager"]}, "channels: unknown channel(s) ['pager']"),
        ({"window": "5 minutes"}, "window: window '5 minutes' is not a duration; write e.g. 5m"),
        ({"window": "30s"}, "shorter than a minute"),
        ({"for": -3}, "for: for -3 is not a duration"),
        ({"thresholds": None}, "thresholds: is missing"),
        (
            {"thresholds": {"warning": float("nan")}},
            "thresholds.warning: nan is not a finite number",
        ),
        ({"model": None}, "model: is missing"),
        ({"comparison": "=>"}, "comparison: '=>' is not one of"),
        (
            {"threshold": 3},
            "unknown field(s) ['threshold'] ('threshold': did you mean 'thresholds'?)",
        ),
        ({"metric": "drift"}, "reference: metric 'drift' needs the name of a stored reference"),
        ({"metric": "drift", "reference": "train"}, "feature: name the feature to watch, or '*'"),
        ({"feature": "amount"}, "only drift and data-quality metrics take a feature"),
        (
            {"group_by": ["region"]},
            "group_by: ['region']: group by any of ['version', 'environment']",
        ),
        ({"name": "has space"}, "is not a name"),
        ({"name": "ok"}, "is used by an earlier rule"),
        ({"baseline": "magic"}, "baseline.mode: 'magic' is not one of fixed, reference, learned"),
        ({"baseline": {"mode": "learned", "history": "2h"}}, "learn from at least 1d of history"),
        ({"baseline": {"mode": "reference"}}, "baseline.value: a reference baseline needs"),
        ({"actions": [{"hook": "rollback"}]}, "unknown hook 'rollback'"),
        ({"min_events": -1}, "min_events: -1 is not a whole number"),
        ({"segment": {"region": 5}}, "segment: must map tag names to string values"),
    ],
)
def test_a_bad_rule_is_named_with_its_field_and_the_good_one_stays(
    change: dict[str, object], words: str
) -> None:
    errors = _errors(**change)
    assert len(errors) == 1
    assert words in errors[0], errors[0]
    assert "(rules[1])" in errors[0]  # the rule is named by its place, and its name if it has one


def test_yaml_syntax_errors_name_the_line() -> None:
    with pytest.raises(ConfigError, match=r"rules.yaml is not valid YAML at line 3, column \d+"):
        parse_rules("rules:\n  - name: a\n  metric: [unclosed\n", name="rules.yaml")
    with pytest.raises(ConfigError, match=r"not valid JSON: .* line 1"):
        parse_rules('{"rules": [}')
    with pytest.raises(ConfigError, match="not UTF-8"):
        parse_rules(b"rules: \xff\xfe")


def test_documents_that_are_not_rules() -> None:
    assert "write a mapping" in str(parse_rules("just text").errors[0])
    assert "write a list of rules" in str(parse_rules({"rules": {"a": 1}}).errors[0])
    assert "unknown top-level" in str(parse_rules({"rule": []}).errors[0])
    assert parse_rules("").rules == [] and parse_rules("").errors == []
    parsed = parse_rules([GOOD, "not a mapping"])  # a list is taken as the rules
    assert [r.name for r in parsed.rules] == ["ok"]
    assert "rules[1]: is a str" in str(parsed.errors[0])


def test_bad_channels_and_hooks_are_named() -> None:
    parsed = parse_rules(
        {
            "channels": [
                {"name": "hook", "type": "webhook", "url": "not a url"},
                {"name": "sms", "type": "sms"},
            ],
            "actions": [
                {"name": "rollback", "type": "command", "command": "rm -rf /"},
                {"name": "other", "type": "carrier-pigeon"},
            ],
            "rules": [{**GOOD, "channels": ["hook", "sms"], "actions": ["rollback"]}],
        }
    )
    messages = [str(e) for e in parsed.errors]
    assert any("channels[0] (hook)" in m and "url" in m for m in messages), messages
    assert any("channels[1] (sms)" in m and "unknown channel type 'sms'" in m for m in messages)
    assert any("actions[0] (rollback)" in m and "list of strings" in m for m in messages)
    assert any("actions[1] (other)" in m and "not command or webhook" in m for m in messages)
    assert [r.name for r in parsed.rules] == ["ok"]  # the rule itself is fine


def test_durations() -> None:
    assert [parse_duration(t) for t in ("90s", "5m", "1.5h", "7d", "2w", 30)] == [
        90.0, 300.0, 5400.0, 604800.0, 1209600.0, 30.0,
    ]  # fmt: skip
    for bad in ("", "5", "m5", "5y", True, float("inf"), None, "５m"):
        with pytest.raises(ConfigError, match="is not a duration"):
            parse_duration(bad)


def test_severity_follows_the_comparison() -> None:
    (high,) = parse_rules({"rules": [GOOD]}).rules
    assert [high.severity_of(v, (0.01, 0.05)) for v in (0.0, 0.02, 0.06, None, float("nan"))] == [
        "ok", "warning", "critical", "ok", "ok",
    ]  # fmt: skip
    low_rule = {**GOOD, "metric": "accuracy", "thresholds": {"warning": 0.9, "critical": 0.8}}
    (low,) = parse_rules({"rules": [low_rule]}).rules
    assert low.comparison == "<"  # accuracy is bad when low: the default comparison says so
    assert [low.severity_of(v, (0.9, 0.8)) for v in (0.95, 0.85, 0.7)] == [
        "ok",
        "warning",
        "critical",
    ]


def test_every_metric_has_a_direction_and_a_source() -> None:
    for spec in METRICS.values():
        assert spec.bad in ("high", "low") and spec.source in (
            "serving",
            "performance",
            "estimate",
            "drift",
            "quality",
            "resources",
            "clients",
        )
    # a resource metric is a column of the store's resource samples
    from telltale.store.context import CONTEXT_DDL

    resources = next(ddl for ddl in CONTEXT_DDL if "tt_resources" in ddl)
    for name, spec in METRICS.items():
        if spec.source == "resources":
            assert f" {name} DOUBLE" in resources


def test_quality_and_resource_rules_are_checked() -> None:
    base = {"name": "r", "model": "fraud", "thresholds": {"warning": 0.1}}
    bad = [
        ({"metric": "missing_rate", "feature": "amount"}, "reference", "stored reference"),
        ({"metric": "missing_rate", "reference": "train"}, "feature", "'*' for the worst"),
        ({"metric": "cpu_percent", "group_by": ["version"]}, "group_by", "per process"),
        ({"metric": "rss_mb", "segment": {"region": "eu"}}, "segment", "per process"),
        (
            {
                "metric": "new_category_share",
                "feature": "*",
                "reference": "train",
                "baseline": "learned",
            },
            "baseline",
            "hourly history",
        ),
        (
            {"metric": "latency_p99_ms", "baseline": {"mode": "learned", "changes": "yes"}},
            "baseline.changes",
            "true or false",
        ),
    ]
    for change, field_name, message in bad:
        parsed = parse_rules({"rules": [{**base, **change}]})
        (error,) = parsed.errors
        assert error.field == field_name and message in error.message, error
    good = parse_rules(
        {"rules": [
            {**base, "metric": "new_category_share", "feature": "*", "reference": "train"},
            {**base, "name": "c", "metric": "cpu_percent", "thresholds": {"warning": 90}},
        ]}
    )  # fmt: skip
    assert not good.errors and [r.spec.source for r in good.rules] == ["quality", "resources"]


def test_prometheus_export_passes_promtool(tmp_path: Path) -> None:
    rules = parse_rules(
        {
            "rules": [
                {**GOOD, "name": "errors", "for": "5m", "group_by": ["version"], "labels": {"team": "risk"}},
                {**GOOD, "name": "p99", "metric": "latency_p99_ms", "thresholds": {"critical": 500}},
                {**GOOD, "name": "mean", "metric": "latency_mean_ms", "thresholds": {"critical": 50}},
                {**GOOD, "name": "rps", "metric": "throughput_per_s", "thresholds": {"warning": 10}},
                {**GOOD, "name": "acc", "metric": "accuracy", "thresholds": {"warning": 0.9, "critical": 0.8}},
                {**GOOD, "name": "drift", "metric": "drift", "feature": "amount", "reference": "train",
                 "thresholds": {"warning": 0.1}},
                {**GOOD, "name": "ref", "baseline": {"mode": "reference", "value": 0.02},
                 "thresholds": {"warning": 0.5, "critical": 1.0}},
                {**GOOD, "name": "learned", "baseline": "learned", "thresholds": None},
            ]
        }
    )  # fmt: skip
    assert rules.errors == []
    text = prometheus_rules(rules.rules)
    assert text.startswith(
        "# not expressible in PromQL (learned baselines, segments or environments): learned"
    )
    document = yaml.safe_load(text)
    exported = {r["alert"]: r for r in document["groups"][0]["rules"]}
    assert set(exported) == {
        "errors-warning", "errors-critical", "p99-critical", "mean-critical", "rps-warning",
        "acc-warning", "acc-critical", "drift-warning", "ref-warning", "ref-critical",
    }  # fmt: skip
    assert exported["errors-warning"]["for"] == "5m"
    assert exported["errors-warning"]["labels"] == {
        "severity": "warning",
        "telltale_rule": "errors",
        "team": "risk",
    }
    assert exported["acc-critical"]["expr"].endswith("< 0.8")
    assert exported["ref-critical"]["expr"].endswith("> 0.04")  # 0.02 + 100%
    assert 'status="error"' in exported["errors-critical"]["expr"]
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("TELLTALE_REQUIRE_SERVERS"):
            pytest.fail("promtool is not installed (apt-get install prometheus)", pytrace=False)
        pytest.skip("promtool not installed (apt-get install prometheus)")
    path = tmp_path / "telltale.rules.yml"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 10 rules found" in done.stdout

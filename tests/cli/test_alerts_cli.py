"""`telltale alerts …`: a cron-style round on a real file, clear errors for bad files and
arguments, JSON twins of the listings."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from telltale.cli.main import main
from telltale.schema.wire import decode_events_json
from telltale.store.events import EventStore

T0 = datetime(2026, 11, 22, 14, 0, tzinfo=timezone.utc)
RULES = """
rules:
  - name: errors
    model: fraud
    metric: error_rate
    window: 5m
    thresholds: {warning: 0.1, critical: 0.5}
    labels: {team: risk}
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    path = tmp_path / "telltale.duckdb"
    events = [
        {"event_id": str(uuid.uuid4()), "ts": (T0 - timedelta(seconds=3 * (i + 1))).isoformat(),
         "model": "fraud", "version": "1.4.0", "status": "error" if i % 4 == 0 else "ok"}
        for i in range(80)
    ]  # fmt: skip
    with EventStore(path) as store:
        store.write([("fraud", decode_events_json({"events": events}))])
    return path


def test_apply_check_list_ack_silence_history(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    base = ("--db", str(db), "--project", "fraud")
    assert (
        run(capsys, "alerts", "validate", str(rules))[1]
        .strip()
        .endswith("1 rule(s), 0 channel(s), 0 hook(s): OK")
    )
    code, out, _ = run(capsys, "alerts", "apply", str(rules), *base)
    assert (code, out.strip()) == (0, "applied 1 rule(s) to project 'fraud'")
    code, out, err = run(capsys, "alerts", "check", *base, "--now", T0.isoformat(), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["evaluated"][0]["value"] == pytest.approx(0.25)  # 20 of the 80 are errors
    assert [t["event"] for t in report["transitions"]] == ["pending", "firing"]
    assert report["firing"][0]["severity"] == "warning"
    code, out, _ = run(capsys, "alerts", "list", *base)
    fingerprint, state = out.split()[:2]
    assert (
        state == "firing" and "fraud 1.4.0" not in out and "error_rate 0.25 > 0.1 (warning)" in out
    )
    assert (
        run(capsys, "alerts", "ack", fingerprint, *base, "--by", "alice")[1].strip()
        == f"acknowledged {fingerprint}"
    )
    assert "acknowledged by alice" in run(capsys, "alerts", "list", *base)[1]
    code, out, _ = run(capsys, "alerts", "silence", *base, "-m", "team=risk", "--for", "2h")
    assert code == 0 and out.startswith("silence ")
    silences = json.loads(run(capsys, "alerts", "silences", *base, "--json")[1])
    assert [s["matchers"] for s in silences] == [{"team": "risk"}]
    history = json.loads(run(capsys, "alerts", "history", *base, "--json")[1])
    assert [h["event"] for h in history] == ["acknowledged", "firing", "pending"]
    exported = run(capsys, "alerts", "export-prometheus", str(rules))[1]
    assert "alert: errors-warning" in exported and "team: risk" in exported


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("alerts", "validate", "missing.yaml"), "cannot read rules file 'missing.yaml'"),
        (("alerts", "check", "--db", "nope.duckdb", "--project", "fraud"), "no telltale file at 'nope.duckdb'"),
        (("alerts", "ack", "abc", "--db", "{db}", "--project", "fraud", "--by", "x"), "no firing alert 'abc'"),
        (("alerts", "silence", "--db", "{db}", "--project", "fraud", "-m", "rule", "--for", "1h"), "--match 'rule' is not KEY=VALUE"),
        (("alerts", "silence", "--db", "{db}", "--project", "fraud", "-m", "rule=a", "--for", "soon"), "is not a duration"),
        (("alerts", "check", "--db", "{db}", "--project", "fraud", "--now", "yesterday"), "--now 'yesterday' is not an ISO-8601"),
        (("alerts", "approve", "zz", "--db", "{db}", "--project", "fraud", "--by", "x"), "no action 'zz'"),
    ],
)  # fmt: skip
def test_bad_arguments_get_one_clear_line(
    capsys: pytest.CaptureFixture[str], db: Path, args: tuple[str, ...], words: str
) -> None:
    code, _, err = run(capsys, *(a.replace("{db}", str(db)) for a in args))
    assert code == 1
    assert words in err and "Traceback" not in err, err


def test_validate_lists_every_problem_and_apply_refuses(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, db: Path
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        RULES
        + "  - {name: bad, model: fraud, metric: latency, thresholds: {warning: 2, critical: 1}}\n"
        "  - {name: ünïcode, model: fraud, metric: error_rate}\n",
        encoding="utf-8",
    )
    code, _, err = run(capsys, "alerts", "validate", str(rules))
    assert code == 1
    assert "2 problem(s)" in err
    assert "rule 'bad' (rules[1]).metric: unknown metric 'latency'" in err
    assert "rule 'ünïcode' (rules[2]).name" in err
    code, _, err = run(capsys, "alerts", "apply", str(rules), "--db", str(db), "--project", "fraud")
    assert code == 1 and "2 problem(s) in the rules" in err
    code, out, err = run(
        capsys, "alerts", "apply", str(rules), "--db", str(db), "--project", "fraud", "--partial"
    )
    assert code == 0 and "applied 1 rule(s)" in out and "2 problem(s)" in err
    (tmp_path / "broken.yaml").write_text("rules: [\n", encoding="utf-8")
    code, _, err = run(capsys, "alerts", "validate", str(tmp_path / "broken.yaml"))
    assert code == 1 and "is not valid YAML at line 2" in err


def test_metrics_lists_every_metric(capsys: pytest.CaptureFixture[str]) -> None:
    from telltale.alerts.rules import METRICS

    out = run(capsys, "alerts", "metrics")[1]
    assert [line.split()[0] for line in out.splitlines()] == list(METRICS)

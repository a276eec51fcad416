"""The docs stay true to the code: every drift method and CLI option of `report` is documented."""

from __future__ import annotations

from pathlib import Path

from telltale.analysis.drift import DRIFT_METHODS
from telltale.cli.main import report_command

ROOT = Path(__file__).resolve().parents[1]
REPORT_DOC = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_drift_method_is_in_the_docs() -> None:
    for name, method in DRIFT_METHODS.items():
        assert f"| `{name}` |" in REPORT_DOC, name
        threshold = f"{method.default_threshold:g}"
        assert threshold in REPORT_DOC


def test_every_report_option_is_documented() -> None:
    for param in report_command.params:
        long_options = [option for option in param.opts if option.startswith("--")]
        for option in long_options:
            assert f"| `{option}` |" in REPORT_DOC, f"{option} is missing from docs/report.md"


def test_readme_starts_with_the_two_commands() -> None:
    head = README[: README.index("## Use it on your data")]
    assert "make demo" in head and "make test" in head


def test_the_alerts_page_shows_a_valid_rules_file_and_every_metric() -> None:
    from telltale.alerts.rules import METRICS, parse_rules

    page = (ROOT / "docs" / "alerts.md").read_text(encoding="utf-8")
    example = page.split("```yaml\n", 1)[1].split("```", 1)[0]
    parsed = parse_rules(example)
    assert parsed.errors == [] and len(parsed.rules) == 5
    table = page[page.index("| metric | from | bad when |") :]
    for name in METRICS:
        assert f"`{name}`" in table, name

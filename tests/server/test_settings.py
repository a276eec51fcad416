"""One settings table drives the CLI options, the environment and the docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from telltale.errors import ConfigError
from telltale.server.settings import SETTINGS, ServerSettings

DOCS = Path(__file__).parents[2] / "docs" / "server.md"


def test_the_dataclass_and_the_table_agree() -> None:
    defaults = ServerSettings().to_dict()
    assert list(defaults) == [s.name for s in SETTINGS]
    assert defaults == {s.name: s.default for s in SETTINGS}


def test_options_beat_environment_beats_defaults() -> None:
    environ = {"TELLTALE_PORT": "9001", "TELLTALE_HOST": "0.0.0.0"}
    settings = ServerSettings.from_mapping({"port": "9002"}, environ=environ)
    assert (settings.port, settings.host, settings.db) == (9002, "0.0.0.0", "telltale.duckdb")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"port": "http"}, "--port 'http' is not a valid int"),
        ({"port": "-1"}, "--port must be at least 0"),
        ({"max_body_mb": "nan"}, "must be a number"),
        ({"log_level": "loud"}, "--log-level 'loud'"),
        ({"colour": "red"}, "unknown server setting"),
    ],
)
def test_bad_settings_name_the_option(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ServerSettings.from_mapping(values, environ={})


def test_docs_list_every_setting() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`{setting.option}`" in text, setting.name
        assert f"`{setting.env}`" in text, setting.name

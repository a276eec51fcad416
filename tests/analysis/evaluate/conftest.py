"""Paths to the shared ExplainaBoard fixtures (read in place, never copied into the repo)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "explainaboard"
OUTPUTS = ROOT / "data" / "system_outputs"
ARTIFACTS = ROOT / "integration_tests" / "artifacts"


@pytest.fixture(scope="session")
def outputs() -> Path:
    assert OUTPUTS.is_dir(), f"shared fixtures missing at {OUTPUTS}"
    return OUTPUTS


@pytest.fixture(scope="session")
def artifacts() -> Path:
    assert ARTIFACTS.is_dir(), f"shared fixtures missing at {ARTIFACTS}"
    return ARTIFACTS

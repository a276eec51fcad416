"""Paths to the shared ExplainaBoard fixtures (read in place, never copied into the repo)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _datasets() -> Path:
    """``../shared/datasets`` next to the checkout; TELLTALE_SHARED_DATASETS overrides it, and
    the workspace copy is the fallback for a clone made elsewhere (e.g. in /tmp)."""
    candidates = (
        [Path(os.environ["TELLTALE_SHARED_DATASETS"])]
        if "TELLTALE_SHARED_DATASETS" in os.environ
        else []
    )
    candidates += [
        Path(__file__).resolve().parents[4] / "shared" / "datasets",
        Path("/work/shared/datasets"),
    ]
    return next((c for c in candidates if (c / "explainaboard").is_dir()), candidates[0])


ROOT = _datasets() / "explainaboard"
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

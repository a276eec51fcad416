"""The worked examples in the workbench's docstrings run and say what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import telltale.analysis.evaluate as package

MODULES = sorted(
    [info.name for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")]
    + [package.__name__, "telltale.report.evaluation", "telltale.cli.evaluate"]
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    outcome = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert outcome.failed == 0, f"{outcome.failed} docstring example(s) of {name} failed"

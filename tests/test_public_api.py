"""The public surface: curated `__all__`, a light `import telltale`, imports that flow one way."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import telltale

SRC = Path(telltale.__file__).parent

# Layers from the bottom up (docs/architecture.md, section 2): a package may import only from
# its own layer or below. `errors` and `_version` sit under everything.
LAYERS = ["schema", "store", "analysis", "alerts", "report", "server", "demo", "cli"]
SAME_LAYER = {"dashboard": "server"}
"""The dashboard is the server's HTML face: create_app installs it, and it answers through the
server's auth, errors and stores, so the two import each other as one layer."""
BASE = {"telltale", "telltale.errors", "telltale._version"}

PUBLIC_MODULES = [
    "telltale",
    "telltale.errors",
    "telltale.schema",
    "telltale.analysis.profile",
    "telltale.analysis.profiling",
    "telltale.analysis.quality",
    "telltale.analysis.drift",
    "telltale.analysis.performance",
    "telltale.report",
    "telltale.store.files",
    "telltale.store.events",
    "telltale.store.keys",
    "telltale.store.audit",
    "telltale.schema.wire",
    "telltale.analysis.windows",
    "telltale.analysis.evaluate",
    "telltale.analysis.counterfactual",
    "telltale.analysis.attribution",
    "telltale.sdk",
    "telltale.sdk.checks",
    "telltale.server",
    "telltale.store.alerts",
    "telltale.alerts.alert",
    "telltale.alerts.rules",
    "telltale.alerts.anomaly",
    "telltale.alerts.changepoint",
    "telltale.alerts.notifiers",
    "telltale.alerts.actions",
    "telltale.alerts.source",
    "telltale.alerts.engine",
    "telltale.alerts.prometheus",
    "telltale.alerts.slices",
    "telltale.store.reports",
    "telltale.server.reports",
    "telltale.grafana",
    "telltale.dashboard",
]


def _isort_key(name: str) -> tuple[int, str]:
    if name.isupper() and len(name) > 1:
        return (0, name)
    return (1 if name[:1].isupper() else 2, name)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    # The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions, each alphabetical.
    assert exported == sorted(exported, key=_isort_key)
    for symbol in exported:
        assert getattr(module, symbol) is not None


def test_import_telltale_is_light() -> None:
    code = (
        "import sys, telltale; heavy = ('duckdb', 'pyarrow', 'ibis', 'pandas', 'numpy', 'scipy');"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name == "telltale" or name.startswith("telltale.")}


def test_imports_flow_one_way() -> None:
    violations = []
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC).parts
        own = SAME_LAYER.get(parts[0], parts[0]) if len(parts) >= 2 else ""
        if own not in LAYERS:
            continue
        layer = LAYERS.index(own)
        for name in _imports(path) - BASE:
            target = SAME_LAYER.get(name.split(".")[1], name.split(".")[1])
            if target in LAYERS and LAYERS.index(target) > layer:
                violations.append(f"{path.relative_to(SRC)} imports {name}")
    assert violations == []


def test_errors_are_one_tree() -> None:
    from telltale import errors

    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.TelltaleError)
        if cls is not errors.TelltaleError:
            # each also derives from the builtin a caller would naturally catch
            assert issubclass(cls, (ValueError, LookupError, PermissionError, RuntimeError))
    assert issubclass(errors.ScopeError, errors.AuthError)
    error = errors.SchemaError("events[3].ts is missing", details={"row": 3, "field": "ts"})
    assert error.details == {"row": 3, "field": "ts"}
    assert errors.DataError("x").details == {}


def test_sdk_imports_only_the_standard_library_and_errors() -> None:
    # The SDK runs inside the user's model service: it may not pull in the other layers.
    violations = []
    for path in (SRC / "sdk").rglob("*.py"):
        for name in _imports(path) - BASE:
            if name != "telltale.sdk" and not name.startswith("telltale.sdk."):
                violations.append(f"{path.relative_to(SRC)} imports {name}")
    assert violations == []


def test_report_is_callable_after_importing_the_report_package() -> None:
    code = (
        "import telltale.report.html, telltale, pyarrow as pa;"
        "r = telltale.report(pa.table({'x': [1.0, 2.0]}), pa.table({'x': [1.0, 3.0]}));"
        "print(type(r).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "DataReport"

"""telltale.sdk's surface: curated `__all__`, and an import that loads nothing heavy."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

SDK_MODULES = ["telltale.sdk", "telltale.sdk.checks"]


def _isort_key(name: str) -> tuple[int, str]:
    if name.isupper() and len(name) > 1:
        return (0, name)
    return (1 if name[:1].isupper() else 2, name)


@pytest.mark.parametrize("name", SDK_MODULES)
def test_all_is_sorted_and_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_key)
    for symbol in exported:
        assert getattr(module, symbol) is not None


def test_import_sdk_loads_no_heavy_or_optional_library() -> None:
    code = (
        "import sys, telltale.sdk;"
        "m = telltale.sdk.Monitor(model='m', sink=lambda b: None);"
        "f = m.track(lambda x: x); f(1);"
        "heavy = ('duckdb', 'pyarrow', 'ibis', 'pandas', 'numpy', 'scipy', 'httpx', "
        "'opentelemetry', 'pynvml');"
        "print(','.join(h for h in heavy if h in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_sdk_imports_only_the_standard_library_and_itself() -> None:
    import ast
    from pathlib import Path

    import telltale.sdk

    allowed = {"telltale.errors", "telltale._version"}
    root = Path(telltale.sdk.__file__).parent
    stdlib = set(sys.stdlib_module_names)
    optional = {"psutil", "pynvml", "pyarrow"}  # only inside functions, on the background thread
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level: what `import telltale.sdk` runs
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert (
                    top in stdlib
                    or name in allowed
                    or name.startswith("telltale.sdk")
                    or top == "__future__"
                ), f"{path.name} imports {name} at module level"
                assert top not in optional

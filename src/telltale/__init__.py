"""telltale: see what your models really do in production.

``import telltale`` stays light: the analysis stack (DuckDB, Ibis, pyarrow) loads on first use of
:func:`report` or the profiling helpers, so wrapping a model costs nothing at import.

>>> import telltale
>>> result = telltale.report("train.parquet", "week.parquet", target="label")  # doctest: +SKIP
>>> result.save_html("report.html")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telltale._version import __version__
from telltale.errors import ConfigError, DataError, ProfileError, SchemaError, TelltaleError

if TYPE_CHECKING:
    from telltale.analysis.profile import TableProfile
    from telltale.report import DataReport, report
    from telltale.sdk import Monitor, checks

__all__ = [
    "ConfigError",
    "DataError",
    "DataReport",
    "Monitor",
    "ProfileError",
    "SchemaError",
    "TableProfile",
    "TelltaleError",
    "__version__",
    "checks",
    "report",
]

_LAZY = {
    "report": ("telltale.report", "report"),
    "DataReport": ("telltale.report", "DataReport"),
    "TableProfile": ("telltale.analysis.profile", "TableProfile"),
    "Monitor": ("telltale.sdk", "Monitor"),
    "checks": ("telltale.sdk", "checks"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module_name, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module_name), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'telltale' has no attribute {name!r}")
